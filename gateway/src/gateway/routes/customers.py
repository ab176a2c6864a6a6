"""Entering a customer and the reseller's customers (served by the gateway itself)."""

from gateway import customer_access
from gateway.routes import SALES, Route
from portal_contracts.api.customers import (
    CustomerAccessRequest,
    CustomerAccessSchema,
    CustomerListArgs,
    CustomerPageSchema,
    CustomerSchema,
)

TAG = "Customers"

ROUTES = [
    Route(
        "POST",
        "/customer-access",
        "gateway",
        "Enter a customer by customer ID, contact email, subscription pack or quote",
        TAG,
        roles=SALES,
        body=CustomerAccessRequest,
        response=CustomerAccessSchema,
        handler=customer_access.enter_customer,
        errors=(404, 429, 503),
    ),
    Route(
        "GET",
        "/customers",
        "gateway",
        "Managed accounts and customers entered recently",
        TAG,
        roles=SALES,
        query=CustomerListArgs,
        response=CustomerPageSchema,
        handler=customer_access.list_customers,
        errors=(503,),
    ),
    Route(
        "GET",
        "/customers/{customer_id}",
        "gateway",
        "One customer account the caller may act on (ID and name)",
        TAG,
        roles=SALES,
        customer_admin=True,
        customer_in="path",
        response=CustomerSchema,
        handler=customer_access.show_customer,
        errors=(404, 503),
    ),
]
