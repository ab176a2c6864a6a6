"""Quotes: search, read, print, cancel (cart-quote) and order one (orders)."""

from gateway.routes import SALES, SALES_OR_BILLING, Route
from gateway.routes._schemas import contract

TAG = "Quotes"
QUOTE = contract("quotes", "QuoteSchema")

ROUTES = [
    Route(
        "GET",
        "/quotes",
        "cart-quote",
        "Search the caller's quotes",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        query=contract("quotes", "QuoteSearchArgs"),
        response=contract("quotes", "QuotePageSchema"),
    ),
    Route(
        "GET",
        "/quotes/{number}",
        "cart-quote",
        "One quote (Accept: application/pdf prints it)",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        response=QUOTE,
        produces=("application/pdf",),
    ),
    Route(
        "GET",
        "/quotes/{number}/pdf",
        "cart-quote",
        "The quote as a PDF",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        produces=("application/pdf",),
    ),
    Route(
        "POST",
        "/quotes/{number}/cancel",
        "cart-quote",
        "Cancel an open quote",
        TAG,
        roles=SALES,
        customer_admin=True,
        response=QUOTE,
        errors=(409,),
    ),
    Route(
        "POST",
        "/quotes/{number}/order",
        "orders",
        "Order a quote, paid later by invoice (Idempotency-Key)",
        TAG,
        roles=SALES,
        customer_admin=True,
        body=contract("orders", "QuoteOrderRequest"),
        response=contract("orders", "OrderSchema"),
        status=201,
        idempotency_key=True,
        rate_limit="checkout",
        errors=(409,),
    ),
]
