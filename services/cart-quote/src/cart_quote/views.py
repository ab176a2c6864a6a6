"""How carts and quotes look from outside: the public shapes of API.md."""

from __future__ import annotations

import datetime as dt

from cart_quote.models import Quote
from cart_quote.queries import PricedCart
from portal_contracts.api.carts import CartSchema
from portal_contracts.api.quotes import QuoteSchema

CART = CartSchema()
QUOTE = QuoteSchema()


def cart_view(priced: PricedCart, customer_id: str, idle_days: int) -> dict:
    cart, summary = priced.cart, priced.summary
    return CART.dump(
        {
            "id": str(cart.id) if cart is not None else None,
            "customer_id": customer_id,
            "items": priced.lines,
            "subtotal": summary.subtotal,
            "tax": [t.as_dict() for t in summary.tax],
            "total": summary.total,
            "currency": priced.currency,
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
            "status": quote.effective_status(today),
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
