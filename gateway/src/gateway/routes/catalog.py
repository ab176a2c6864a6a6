"""Products and the prices the caller pays (catalog)."""

from gateway.routes import SALES_OR_BILLING, Route
from gateway.routes._schemas import contract
from portal_contracts.api.common import ListArgs

TAG = "Catalog"

ROUTES = [
    Route(
        "GET",
        "/products",
        "catalog",
        "Products with the prices this caller pays",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        query=ListArgs,
        response=contract("products", "ProductPageSchema"),
    ),
    Route(
        "GET",
        "/products/{code}",
        "catalog",
        "One product",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        response=contract("products", "ProductSchema"),
    ),
]
