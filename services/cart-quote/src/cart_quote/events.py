"""Payloads of the events cart-quote publishes (``quotes.quote.*``)."""

from __future__ import annotations

from cart_quote.models import Quote, QuoteLine


def quote_line(line: QuoteLine) -> dict:
    return {
        "line_no": line.line_no,
        "kind": line.kind,
        "product": line.product,
        "quantity": line.quantity,
        "term_years": line.term_years,
        "start_date": line.start_date,
        "end_date": line.end_date,
        "fallback_eligible": line.fallback_eligible,
        "team_id": line.team_id,
        "team_name": line.team_name,
        "subscription_pack": line.subscription_pack,
        "license_ids": list(line.license_ids or []),
        "unit_price": line.unit_price,
        "amount": line.amount,
        "product_name": line.product_name,
    }


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
