"""``/internal/...``: pricing order lines for orders, claiming a direct quote, a quote's PDF."""

from __future__ import annotations

from flask import Blueprint

from cart_quote import queries
from cart_quote.api.common import handle, today
from cart_quote.api.quotes import pdf_response
from cart_quote.commands import ClaimQuote
from cart_quote.lines import price_order
from cart_quote.price_book import book_for
from cart_quote.tax import summary_for
from portal_contracts.api.quotes import ClaimQuoteRequest, PricingRequest
from portal_contracts.base import to_json_ready
from portal_runtime.errors import NotFound
from portal_runtime.web import current_identity, current_service, json_body, schema

bp = Blueprint("internal", __name__)


@bp.post("/internal/pricing")
def price_lines():
    """Price order lines for orders (direct orders), with the same code as the cart."""
    identity = current_identity()
    data = schema(PricingRequest).load(json_body(optional=True))
    customer_id = data["customer_id"]
    if not identity.may_access(customer_id):
        raise NotFound("customer")
    service = current_service()
    on = today()
    with service.read_sessions() as session:
        book = book_for(session, identity, service.config.default_currency)
        lines = price_order(data["lines"], customer_id, book, service.licenses, on)
    summary = summary_for(
        (line["amount"] for line in lines),
        data.get("billing_address"),
        seller_country=service.config.seller.country,
        on=on,
    )
    return to_json_ready({"currency": book.currency, **summary.as_dict(), "lines": lines})


@bp.post("/internal/quotes/claim")
def claim():
    identity = current_identity()
    data = schema(ClaimQuoteRequest).load(json_body(optional=True))
    quote = handle(
        ClaimQuote(
            identity,
            data["quote_number"],
            data["email"],
            data["reseller_id"],
            data.get("reseller_name"),
        )
    )
    return {
        "customer_id": quote.customer_id,
        "name": quote.customer_name,
        "quote_number": quote.number,
    }


@bp.get("/internal/quotes/<number>/pdf")
def internal_quote_pdf(number: str):
    identity = current_identity()
    if not identity.is_service:
        raise NotFound("quote")
    with current_service().sessions() as session:
        return pdf_response(queries.find_quote(session, identity, number), identity)
