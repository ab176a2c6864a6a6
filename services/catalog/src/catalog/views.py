"""How products look from outside (``ProductSchema``)."""

from __future__ import annotations

from catalog.models import Product
from portal_contracts.api.products import ProductSchema

PRODUCT = ProductSchema()


def product_view(product: Product, prices: list[dict]) -> dict:
    """A product with the prices the caller pays (``pricing.prices_for``)."""
    return PRODUCT.dump(
        {
            "code": product.code,
            "name": product.name,
            "includes": list(product.includes or []),
            "prices": prices,
        }
    )
