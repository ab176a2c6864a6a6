"""Payloads of the events cart-quote publishes (``quotes.quote.*``)."""

from __future__ import annotations

from cart_quote.lines import ORDER_LINE_FIELDS
from cart_quote.models import Quote, QuoteLine


def quote_line(line: QuoteLine) -> dict:
    """A quote line as ``orders.order.placed`` carries it (the same fields)."""
    fields = {key: getattr(line, key) for key in ORDER_LINE_FIELDS}
    return {**fields, "license_ids": list(line.license_ids or [])}


def quote_issued(quote: Quote) -> dict:
    """``quotes.quote.issued``: the whole quote, as notifications mails it."""
    return {
        "quote_number": quote.number,
        "buyer": quote.buyer,
        "reseller_id": quote.reseller_id,
        "customer": {
            "id": quote.customer_id,
            "name": quote.customer_name,
            "email": quote.customer_email,
        },
        "end_user": quote.end_user,
        "po_number": quote.po_number,
        "lines": [quote_line(line) for line in quote.lines],
        "subtotal": quote.subtotal,
        "tax": quote.tax,
        "total": quote.total,
        "currency": quote.currency,
        "valid_until": quote.valid_until,
        "issued_at": quote.issued_at,
        "billing_address": quote.billing_address,
    }


def quote_cancelled(quote: Quote) -> dict:
    """``quotes.quote.cancelled``."""
    return _which(quote)


def quote_converted(quote: Quote) -> dict:
    """``quotes.quote.converted``: a direct quote became a reseller's (``reseller_id``)."""
    return _which(quote)


def _which(quote: Quote) -> dict:
    return {
        "quote_number": quote.number,
        "reseller_id": quote.reseller_id,
        "customer_id": quote.customer_id,
    }
