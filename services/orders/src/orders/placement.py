"""What an order is made of: a cart, a quote or priced lines, as cart-quote answered them.

Each builder reads what it needs through the ports (in parallel where the reads are
independent), applies the rules of its source (an empty or expired cart, an open unexpired quote
with a PO, the caller's own active payment method, a customer the caller may act on) and returns
the ``PlaceOrder`` command. Lines and tax are frozen as cart-quote priced them; an answer this
service cannot read is a 502.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from decimal import Decimal

from marshmallow import ValidationError

from orders.commands import PlaceOrder
from orders.ports import Carts, Customers, PaymentMethods, Pricing
from portal_contracts.base import lenient
from portal_contracts.common import TaxLine
from portal_contracts.events.orders import BillingAddress, OrderLine
from portal_runtime.errors import Conflict, DomainError, Invalid, NotFound
from portal_runtime.http import read_in_parallel
from portal_runtime.identity import Identity

# What an order line carries (the ``orders.order.placed`` line), read leniently from cart-quote.
ORDER_LINE = lenient(OrderLine)
BILLING_ADDRESS = lenient(BillingAddress)
TAX_LINE = lenient(TaxLine)


class Unreadable(DomainError):
    """cart-quote answered something this service cannot read (a 502: its fault, not the
    caller's)."""

    status = 502


class Refused(Conflict):
    """A 409 with a title of its own."""

    def __init__(self, detail: str, title: str):
        super().__init__(detail)
        self.title = title


class AlreadyOrdered(Refused):
    """A cart or quote that already became an order answers 409 naming that order."""

    def __init__(self, what: str, number: str):
        super().__init__(
            f"This {what} has already been ordered as {number}.",
            title=f"{what.capitalize()} already ordered",
        )


# -- the three sources ---------------------------------------------------------------------------


def from_cart(
    identity: Identity,
    customer_id: str,
    data: dict,
    *,
    carts: Carts,
    customers: Customers,
    payment_methods: PaymentMethods,
    ordered_as: Callable[[str], str | None],
    now: dt.datetime,
) -> PlaceOrder:
    """The caller's cart for this customer, paid at once with a stored method.

    ``ordered_as(source_key)``: the order the cart already became, if any (``queries``)."""
    (kind, method_id), cart, customer = read_in_parallel(
        lambda: payment_of(payment_methods, identity, data["payment_method_id"]),
        # The cart priced with its tax for this billing address (a bad VAT ID: a 422).
        lambda: carts.cart(identity, customer_id, data["billing_address"]),
        lambda: customer_record(customers, customer_id),
    )
    cart_id, lines = cart_content(cart, now)
    source_key = cart_key(customer_id, cart_id, cart["items"])
    if earlier := ordered_as(source_key):
        raise AlreadyOrdered("cart", earlier)
    return PlaceOrder(
        buyer=identity.buyer(),
        customer=customer,
        end_user=data["end_user"],
        currency=cart.get("currency") or identity.currency,
        lines=lines,
        payment_kind=kind,
        payment_method_id=method_id,
        po_number=data.get("po_number"),
        send_activation_email=data["send_activation_email"],
        source_kind="cart",
        source_reference=cart_id or None,
        source_key=source_key,
        billing_address=data["billing_address"],
        tax=tax_of(cart, lines, "cart"),
        placed_at=now,
    )


def from_quote(
    identity: Identity,
    number: str,
    data: dict,
    *,
    carts: Carts,
    now: dt.datetime,
) -> PlaceOrder:
    """An open quote of the caller's: paid later by invoice against a PO."""
    quote = carts.quote(identity, number)
    customer = (quote or {}).get("customer") or {}
    if quote is None or (identity.is_customer_admin and customer.get("id") != identity.customer_id):
        raise NotFound("quote")
    status = quote.get("status")
    valid_until = quote.get("valid_until")
    if status != "open":
        raise Conflict(f"Only an open quote can be ordered; this one is {status}.")
    if valid_until and dt.date.fromisoformat(str(valid_until)[:10]) < now.date():
        raise Conflict(f"This quote expired on {str(valid_until)[:10]}.")
    po_number = data.get("po_number") or quote.get("po_number")
    if not po_number:
        raise Invalid("po_number", "A PO number is required to be invoiced.")
    if not quote.get("end_user"):
        raise Unreadable("The quote has no end-user (licensee) to deliver to.")
    lines = frozen_lines(quote.get("lines") or [], "quote")
    return PlaceOrder(
        buyer=identity.buyer(),
        customer={
            "id": customer["id"],
            "name": customer.get("name") or customer["id"],
            "email": customer.get("email"),
        },
        end_user={k: quote["end_user"][k] for k in ("first_name", "last_name", "email")},
        currency=quote.get("currency") or identity.currency,
        lines=lines,
        tax=tax_of(quote, lines, "quote"),
        payment_kind="po",
        po_number=po_number,
        send_activation_email=data["send_activation_email"],
        source_kind="quote",
        source_reference=number,
        source_key=f"quote:{number}",
        billing_address=billing_address_of(quote.get("billing_address")),
        placed_at=now,
    )


def from_lines(
    identity: Identity,
    data: dict,
    *,
    customers: Customers,
    payment_methods: PaymentMethods,
    pricing: Pricing,
    now: dt.datetime,
) -> PlaceOrder:
    """A direct order (integrators): the lines asked for, priced by cart-quote."""
    lines = [
        {k: v for k, v in line.items() if v is not None or k == "end_date"}
        for line in data["lines"]
    ]
    method = data.get("payment_method_id")
    # Three independent reads at once; their errors count in this order (an unknown
    # customer is a 404 whatever the lines' prices).
    customer, payment, priced = read_in_parallel(
        lambda: customer_for_direct_order(customers, identity, data["customer_id"]),
        (lambda: payment_of(payment_methods, identity, method)) if method else None,
        lambda: pricing.price(identity, data["customer_id"], lines, data.get("billing_address")),
    )
    kind, method_id = payment or ("po", None)
    priced_lines = frozen_lines(priced["lines"], "priced order")
    # Pricing may not echo the new team's name back; the line keeps what was asked for.
    for asked, line in zip(data["lines"], priced_lines, strict=False):
        if asked.get("team_name") and not line.get("team_name"):
            line["team_name"] = asked["team_name"]
    return PlaceOrder(
        buyer=identity.buyer(),
        customer=customer,
        end_user=data["end_user"],
        currency=priced["currency"],
        lines=priced_lines,
        tax=tax_of(priced, priced_lines, "priced order"),
        payment_kind=kind,
        payment_method_id=method_id,
        po_number=data.get("po_number"),
        send_activation_email=data["send_activation_email"],
        source_kind="direct",
        billing_address=data.get("billing_address"),
        placed_at=now,
    )


# -- the rules they share ------------------------------------------------------------------------


def payment_of(payment_methods: PaymentMethods, identity: Identity, method_id: str):
    """The kind (card, paypal) of one of the caller's own active stored payment methods."""
    method = payment_methods.get(identity, method_id)
    if method is None or method.get("status", "active") != "active":
        raise Invalid("payment_method_id", "No active payment method of yours has this id.")
    return method["kind"], method_id


def customer_record(customers: Customers, customer_id: str) -> dict:
    return _brief(customers.get(customer_id))


def customer_for_direct_order(customers: Customers, identity: Identity, customer_id: str) -> dict:
    """``POST /orders`` names its customer in the body: a checked grant or a managed account."""
    customer = customers.get(customer_id)
    allowed = identity.may_access(customer_id) or (
        identity.is_reseller
        and customer is not None
        and identity.reseller_id in (customer.get("managing_reseller_ids") or [])
    )
    return _brief(customer if allowed else None)


def _brief(customer: dict | None) -> dict:
    if customer is None:
        raise NotFound("customer")
    email = customer.get("email") or next(iter(customer.get("contacts") or []), None)
    return {"id": customer["id"], "name": customer["name"], "email": email}


def frozen_lines(items: list[dict], where: str) -> list[dict]:
    """Lines as cart-quote priced them (each item carries the ``orders.order.placed`` fields)."""
    lines = []
    for number, item in enumerate(items, start=1):
        try:
            line = ORDER_LINE.load({**item, "line_no": number})
        except ValidationError as exc:
            raise Unreadable(
                f"The {where} has a line this service cannot read ({sorted(exc.messages)})."
            )
        lines.append(line)
    return lines


def tax_of(priced: dict, lines: list[dict], where: str) -> list[dict]:
    """The tax lines cart-quote computed, checked to add up: lines + tax = the total it quoted.

    A cart, quote or pricing answer from before tax was computed has none (its total is net)."""
    tax = []
    for entry in priced.get("tax") or []:
        try:
            tax.append(TAX_LINE.load(entry))
        except ValidationError as exc:
            raise Unreadable(f"The {where} has a tax line this service cannot read ({exc}).")
    subtotal = sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))
    expected = subtotal + sum((t["amount"] for t in tax), Decimal("0.00"))
    if priced.get("total") is not None and Decimal(str(priced["total"])) != expected:
        raise Unreadable(f"The {where}'s total does not add up to its lines and tax.")
    return tax


def _parse_instant(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def cart_content(cart: dict | None, now: dt.datetime) -> tuple[str, list[dict]]:
    """The cart's id and its lines, or a 409 when there is nothing to check out."""
    if not cart or not cart.get("items"):
        raise Refused("The cart is empty: add something before checking out.", title="Empty cart")
    status = cart.get("status")
    expires_at = _parse_instant(cart.get("expires_at"))
    if cart.get("expired") or status == "expired" or (expires_at and expires_at <= now):
        raise Refused(
            "The cart has expired; add the items again to check out.", title="Cart expired"
        )
    if status not in (None, "open", "active"):
        raise Conflict(f"The cart is {status} and cannot be checked out.")
    return str(cart.get("id") or ""), frozen_lines(cart["items"], "cart")


def cart_key(customer_id: str, cart_id: str, items: list[dict]) -> str:
    """One order per cart: the idempotency scope is the cart itself, whatever it holds by now.

    cart-quote closes a cart only when it sees ``orders.order.placed``; an item added before
    that must not make the cart a new one (checking out ``{A}``, adding ``B``, checking out
    again would charge ``A`` twice). A cart is never reopened: a new one gets a new id, which is
    its version. Only a cart without an id falls back to its items' ids.
    """
    scope = cart_id or "items:" + ",".join(sorted(str(item.get("id")) for item in items))
    digest = hashlib.sha256(f"{customer_id}|{scope}".encode()).hexdigest()[:40]
    return f"cart:{digest}"


def billing_address_of(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    try:
        return BILLING_ADDRESS.load(value)
    except ValidationError:
        return None
