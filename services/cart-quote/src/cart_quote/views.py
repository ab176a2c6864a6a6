"""How carts and quotes look from outside: the public shapes of API.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cart_quote.handlers import effective_status
from cart_quote.lines import priced
from cart_quote.models import Cart, Quote
from cart_quote.price_book import PriceBook
from cart_quote.tax import Summary, summarise
from portal_contracts.api.carts import CartSchema
from portal_contracts.api.quotes import QuoteSchema

CART = CartSchema()
QUOTE = QuoteSchema()


def priced_lines(cart: Cart | None, book: PriceBook, today: dt.date) -> list[dict]:
    if cart is None:
        return []
    lines = []
    for number, item in enumerate(cart.items, start=1):
        line = priced(item, book, today, number)
        line["id"] = item.id
        lines.append(line)
    return lines


def cart_view(
    cart: Cart | None,
    customer_id: str,
    book: PriceBook,
    today: dt.date,
    idle_days: int,
    lines: list[dict] | None = None,
    *,
    seller_country: str,
    address: dict | None = None,
) -> dict:
    lines = priced_lines(cart, book, today) if lines is None else lines
    amounts = [line["amount"] for line in lines]
    # A cart knows no billing address: it shows the tax for the one its reader names (checkout
    # names its own), and none before that.
    if address:
        summary = summarise(amounts, address, seller_country=seller_country, on=today)
    else:
        summary = Summary(sum(amounts, Decimal("0.00")), [])
    return CART.dump(
        {
            "id": str(cart.id) if cart is not None else None,
            "customer_id": customer_id,
            "items": lines,
            "subtotal": summary.subtotal,
            "tax": [t.as_dict() for t in summary.tax],
            "total": summary.total,
            "currency": book.currency,
            "updated_at": cart.updated_at if cart is not None else None,
            "expires_at": (
                cart.updated_at + dt.timedelta(days=idle_days) if cart is not None else None
            ),
        }
    )


def quote_view(quote: Quote, today: dt.date) -> dict:
    return QUOTE.dump(
        {
            "number": quote.number,
            "status": effective_status(quote, today),
            "kind": quote.kind,
            "reseller_id": quote.reseller_id,
            "buyer": quote.buyer,
            "customer": {
                "id": quote.customer_id,
                "name": quote.customer_name,
                "email": quote.customer_email,
            },
            "end_user": quote.end_user,
            "billing_address": quote.billing_address,
            "po_number": quote.po_number,
            "lines": quote.lines,
            # A quote from before tax was computed: its total was net, with no tax line.
            "subtotal": quote.total if quote.subtotal is None else quote.subtotal,
            "tax": quote.tax or [],
            "total": quote.total,
            "currency": quote.currency,
            "issued_at": quote.issued_at,
            "valid_until": quote.valid_until,
            "order_number": quote.order_number,
            "pdf_url": f"/api/v1/quotes/{quote.number}/pdf",
        }
    )
