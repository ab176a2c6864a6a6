"""Quotes: what one is made of when issued, and who may claim a direct one.

A quote freezes a cart's priced lines, its tax for the billing address and the seller as they
were; it is valid for ``quote_valid_days`` and numbered ``Q-<year>-<id, 6 digits>``. A direct
quote (the vendor's, to a customer) becomes a reseller's when that reseller, or the gateway for
it, names its number and its licensee's email while it is open.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from cart_quote.models import Quote, QuoteLine, QuoteStatus
from cart_quote.tax import Summary
from portal_runtime.errors import NotFound
from portal_runtime.identity import Identity

if TYPE_CHECKING:  # the ports module brings the HTTP client with it
    from cart_quote.ports import Customers


def customer_record(customers: Customers, customer_id: str) -> dict:
    """The account a quote is for, from license-assign; 404 if it has none."""
    customer = customers.get(customer_id)
    if customer is None:
        raise NotFound("customer")
    # The account's own email, else its first contact's (as orders shows it).
    email = customer.get("email") or next(iter(customer.get("contacts") or []), None)
    return {"id": customer["id"], "name": customer["name"], "email": email}


def new_quote(
    buyer: Identity,
    customer: dict,
    *,
    end_user: dict,
    billing_address: dict | None,
    po_number: str | None,
    currency: str,
    lines: list[dict],
    summary: Summary,
    seller: dict,
    issued_at: dt.datetime,
    valid_days: int,
) -> Quote:
    """An open quote of these order-shaped ``lines`` (``lines.order_line``), not yet numbered."""
    quote = Quote(
        kind="reseller" if buyer.is_reseller else "customer",
        tenant=buyer.tenant,
        reseller_id=buyer.reseller_id if buyer.is_reseller else None,
        buyer=buyer.buyer(),
        customer_id=customer["id"],
        customer_name=customer["name"],
        customer_email=customer.get("email"),
        end_user=dict(end_user),
        end_user_email=end_user["email"],
        billing_address=dict(billing_address) if billing_address else None,
        po_number=po_number,
        currency=currency,
        subtotal=summary.subtotal,
        # Decimals as strings in the JSON column, exact.
        tax=[{"rate": str(t.rate), "amount": str(t.amount), "note": t.note} for t in summary.tax],
        seller=dict(seller),
        total=summary.total,
        status=QuoteStatus.OPEN,
        issued_at=issued_at,
        valid_until=issued_at.date() + dt.timedelta(days=valid_days),
    )
    for line in lines:
        quote.lines.append(QuoteLine(**line))
    return quote


def number_of(quote: Quote) -> str:
    """Its number, once the row has an id."""
    return f"Q-{quote.issued_at.year}-{quote.id:06d}"


def claimant(caller: Identity, reseller_id: str, reseller_name: str | None) -> dict:
    """The buyer a claimed quote gets: the reseller's user claiming, or the reseller itself when
    a service claims for it; anyone else is told the quote does not exist."""
    if caller.is_reseller and caller.reseller_id == reseller_id:
        return caller.buyer()
    if caller.is_service:
        return {
            "kind": "reseller",
            "reseller_id": reseller_id,
            "customer_id": None,
            "name": reseller_name or reseller_id,
            "email": None,
            "user_id": None,
        }
    raise NotFound("quote")


def claimable(quote: Quote | None, email: str, today: dt.date) -> bool:
    """An unclaimed direct quote, open, for a licensee of this email (case-insensitive)."""
    return (
        quote is not None
        and quote.kind == "direct"
        and quote.tenant is None
        and quote.effective_status(today) == QuoteStatus.OPEN
        and quote.end_user_email.strip().lower() == email.strip().lower()
    )
