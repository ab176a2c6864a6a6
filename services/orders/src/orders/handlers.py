"""Orders' commands and the events it learns from.

Commands are small dataclasses handled by one function each; events from other services update
what an order shows (its invoice, payment state and licenses). Every handler is guarded, so a
replayed event changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from orders.models import Order, OrderLicense, OrderLine
from portal_runtime.consumer import Event
from portal_runtime.uow import UnitOfWork


@dataclass(frozen=True)
class PlaceOrder:
    buyer: dict
    customer: dict
    end_user: dict
    currency: str
    lines: list[dict]
    payment_kind: str
    payment_method_id: str | None = None
    po_number: str | None = None
    send_activation_email: bool = False
    source_kind: str = "direct"
    source_reference: str | None = None
    source_key: str | None = None
    billing_address: dict | None = None
    placed_at: dt.datetime | None = None
    portal_base_url: str = ""
    # The tax cart-quote computed on the lines for the billing address: [{rate, amount, note}].
    tax: list[dict] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return sum((Decimal(line["amount"]) for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        """The gross amount charged: the net lines plus their tax."""
        return self.subtotal + sum((Decimal(t["amount"]) for t in self.tax), Decimal("0.00"))


def tax_json(tax: list[dict]) -> list[dict]:
    """Tax lines as a JSON column keeps them: decimals as exact strings."""
    return [
        {"rate": str(Decimal(t["rate"])), "amount": str(Decimal(t["amount"])), "note": t["note"]}
        for t in tax
    ]


def order_number(order: Order) -> str:
    return f"O-{order.placed_at.year}-{order.id:06d}"


def place_order(cmd: PlaceOrder, uow: UnitOfWork) -> Order:
    """Store the order and record ``orders.order.placed`` in the same transaction."""
    buyer = cmd.buyer
    order = Order(
        status="placed",
        payment_status="pending" if cmd.payment_kind != "po" else "invoiced",
        placed_at=cmd.placed_at or dt.datetime.now(dt.UTC),
        buyer_kind=buyer["kind"],
        reseller_id=buyer.get("reseller_id"),
        buyer_customer_id=buyer.get("customer_id"),
        buyer_name=buyer["name"],
        buyer_email=buyer["email"],
        buyer_user_id=buyer.get("user_id"),
        customer_id=cmd.customer["id"],
        customer_name=cmd.customer["name"],
        customer_email=cmd.customer.get("email"),
        end_user=cmd.end_user,
        end_user_email=cmd.end_user["email"],
        currency=cmd.currency,
        subtotal=cmd.subtotal,
        tax=tax_json(cmd.tax),
        total=cmd.total,
        po_number=cmd.po_number,
        payment_kind=cmd.payment_kind,
        payment_method_id=cmd.payment_method_id,
        send_activation_email=cmd.send_activation_email,
        source_kind=cmd.source_kind,
        source_reference=cmd.source_reference,
        source_key=cmd.source_key,
        billing_address=cmd.billing_address,
    )
    for number, line in enumerate(cmd.lines, start=1):
        order.lines.append(
            OrderLine(
                line_no=number,
                kind=line["kind"],
                product=line["product"],
                product_name=line.get("product_name"),
                quantity=line["quantity"],
                term_years=line.get("term_years"),
                start_date=line["start_date"],
                end_date=line["end_date"],
                fallback_eligible=line["fallback_eligible"],
                team_id=line.get("team_id"),
                team_name=line.get("team_name"),
                subscription_pack=line.get("subscription_pack"),
                license_ids=list(line.get("license_ids") or []),
                unit_price=Decimal(line["unit_price"]),
                amount=Decimal(line["amount"]),
            )
        )
    uow.session.add(order)
    uow.session.flush()  # the number derives from the row id
    order.number = order_number(order)
    uow.record("orders.order.placed", order_placed_payload(order, cmd.portal_base_url))
    return order


def portal_url(order: Order, portal_base_url: str) -> str:
    """The order's page in the portal, which the buyer's confirmation email links to."""
    return f"{portal_base_url.rstrip('/')}/portal/orders/{order.number}"


def order_placed_payload(order: Order, portal_base_url: str = "") -> dict:
    return {
        "order_number": order.number,
        "placed_at": order.placed_at,
        "buyer": buyer_of(order),
        "reseller_id": order.reseller_id,
        "customer": customer_of(order),
        "end_user": order.end_user,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "tax": order.tax,
        "total": order.total,
        "po_number": order.po_number,
        "payment": {"kind": order.payment_kind, "method_id": order.payment_method_id},
        "send_activation_email": order.send_activation_email,
        "source": {"kind": order.source_kind, "reference": order.source_reference},
        "lines": [
            {
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
                "license_ids": line.license_ids,
                "unit_price": line.unit_price,
                "amount": line.amount,
                "product_name": line.product_name,
            }
            for line in order.lines
        ],
        "billing_address": order.billing_address,
        "portal_url": portal_url(order, portal_base_url) if portal_base_url else None,
    }


# -- actions on a placed order -------------------------------------------------------------------


class OrderConflict(Exception):
    """The order is not in a state that allows this action (an HTTP 409)."""


def cancellable_until(order: Order, window_days: int) -> dt.datetime | None:
    if order.status != "placed":
        return None
    return order.placed_at + dt.timedelta(days=window_days)


def cancel_order(
    order: Order,
    uow: UnitOfWork,
    *,
    now: dt.datetime,
    window_days: int,
    cancelled_by: dict,
    reason: str | None = None,
) -> None:
    """Cancel within the window; billing credits the invoice, license-assign removes licenses."""
    if order.status == "cancelled":
        raise OrderConflict("This order is already cancelled.")
    deadline = cancellable_until(order, window_days)
    if deadline is None or now > deadline:
        raise OrderConflict(
            f"An order can be cancelled within {window_days} days of placement only."
        )
    order.status = "cancelled"
    order.cancelled_at = now
    order.cancel_reason = reason
    order.cancelled_by = cancelled_by
    uow.record(
        "orders.order.cancelled",
        {
            "order_number": order.number,
            "cancelled_at": now,
            "buyer": buyer_of(order),
            "reseller_id": order.reseller_id,
            "customer": customer_of(order),
            "license_ids": affected_license_ids(order),
            "reason": reason,
            "cancelled_by": cancelled_by,
            "po_number": order.po_number,
            "invoice_number": order.invoice_number,
        },
    )


def affected_license_ids(order: Order) -> list[str]:
    """Every license the order produced or acted on: issued ones, and renewed/upgraded ones."""
    ids = list(order.license_ids)
    for line in order.lines:
        ids.extend(line.license_ids or [])
    return list(dict.fromkeys(ids))


def request_license_resend(order: Order, uow: UnitOfWork, now: dt.datetime) -> list[str]:
    if order.status == "cancelled":
        raise OrderConflict("This order is cancelled; its licenses were removed.")
    license_ids = affected_license_ids(order)
    if not license_ids:
        raise OrderConflict("This order's licenses have not been issued yet; try again shortly.")
    uow.record("orders.licenses.resend_requested", _order_request(order, license_ids, now))
    return license_ids


def request_activation_email(order: Order, uow: UnitOfWork, now: dt.datetime) -> list[str]:
    if order.status == "cancelled":
        raise OrderConflict("This order is cancelled.")
    license_ids = affected_license_ids(order)
    uow.record("orders.activation_email.requested", _order_request(order, license_ids, now))
    return license_ids


def _order_request(order: Order, license_ids: list[str], now: dt.datetime) -> dict:
    return {
        "order_number": order.number,
        "buyer": buyer_of(order),
        "customer": customer_of(order),
        "end_user": order.end_user,
        "license_ids": license_ids,
        "requested_at": now,
    }


def buyer_of(order: Order) -> dict:
    return {
        "kind": order.buyer_kind,
        "reseller_id": order.reseller_id,
        "customer_id": order.buyer_customer_id,
        "name": order.buyer_name,
        "email": order.buyer_email,
        "user_id": order.buyer_user_id,
    }


def customer_of(order: Order) -> dict:
    return {"id": order.customer_id, "name": order.customer_name, "email": order.customer_email}


# -- what other services tell us -----------------------------------------------------------------


def _order(uow: UnitOfWork, number: str) -> Order | None:
    return uow.session.scalar(select(Order).where(Order.number == number))


# Billing's events may arrive in any order (a capture before the invoice, a late failure after
# a successful retry, a capture after the credit note): a credit note settles the order for good,
# "paid" is final otherwise, and nothing older ever overwrites either.
SETTLED = ("credited", "refunded")


def _billed_order(event: Event, uow: UnitOfWork) -> Order:
    order = _order(uow, event.payload["order_number"])
    if order is None:
        # Billing learns of an order only from our own event: an unknown number is a real fault,
        # retried and then dead-lettered rather than dropped.
        raise LookupError(f"{event.type} for unknown order {event.payload['order_number']}")
    if order.invoice_number is None and event.payload.get("invoice_number"):
        order.invoice_number = event.payload["invoice_number"]
    return order


def record_invoice(event: Event, uow: UnitOfWork) -> None:
    order = _billed_order(event, uow)
    order.invoice_number = event.payload["invoice_number"]
    if order.payment_status in SETTLED:
        return
    if event.payload["status"] == "paid":
        order.payment_status = "paid"
        order.payment_failure_reason = None
    elif event.payload["status"] == "applied":
        order.payment_status = "credited"


def record_payment_captured(event: Event, uow: UnitOfWork) -> None:
    order = _billed_order(event, uow)
    if order.payment_status not in SETTLED:
        order.payment_status = "paid"
        order.payment_failure_reason = None


def record_payment_failed(event: Event, uow: UnitOfWork) -> None:
    order = _billed_order(event, uow)
    if order.payment_status not in ("paid", *SETTLED):
        order.payment_status = "failed"
        order.payment_failure_reason = event.payload["reason"]


def record_credit_note(event: Event, uow: UnitOfWork) -> None:
    """A credit note (after a cancellation): the order shows it, and whether money went back."""
    order = _billed_order(event, uow)
    order.credit_note_number = event.payload["credit_note_number"]
    if event.payload["refunded"]:
        order.payment_status = "refunded"
    elif order.payment_status != "refunded":
        order.payment_status = "credited"
    order.payment_failure_reason = None


def record_licenses(event: Event, uow: UnitOfWork) -> None:
    order = _order(uow, event.payload["order_number"])
    if order is None:
        raise LookupError(f"licenses for unknown order {event.payload['order_number']}")
    known = set(order.license_ids)
    for lic in event.payload["licenses"]:
        if lic["license_id"] not in known:
            order.licenses.append(
                OrderLicense(license_id=lic["license_id"], product=lic["product"])
            )
            known.add(lic["license_id"])


EVENT_HANDLERS = {
    "billing.invoice.issued": [record_invoice],
    "billing.payment.captured": [record_payment_captured],
    "billing.payment.failed": [record_payment_failed],
    "billing.credit_note.issued": [record_credit_note],
    "licensing.licenses.issued": [record_licenses],
}
