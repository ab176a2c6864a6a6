"""Orders' command handlers, and the event handlers by which an order shows what billing and
license-assign did with it. Every event handler is guarded, so a replayed event changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

from sqlalchemy import String, Text, bindparam, cast, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only

from orders import events, idempotency, queries
from orders.commands import CancelOrder, PlaceOrder, RequestActivationEmail, ResendLicenses
from orders.config import OrdersConfig
from orders.models import (
    IdempotencyKey,
    Order,
    OrderLicense,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from orders.placement import AlreadyOrdered
from orders.views import order_view
from portal_runtime.clock import Clock
from portal_runtime.consumer import Event
from portal_runtime.db import PerDialect, numbered_insert
from portal_runtime.uow import UnitOfWork, insert_into

# -- commands ------------------------------------------------------------------------------------


def place_order(cmd: PlaceOrder, uow: UnitOfWork, config: OrdersConfig, clock: Clock):
    """Store the order, the answer to its Idempotency-Key, and ``orders.order.placed``, in one
    transaction; returns ``(body, status)``.

    One order per cart or quote and per key: the loser of two concurrent requests hits the
    cart's ``source_key`` or the key's primary key, and answers with what the winner stored
    (or the 409 naming the winner's order).

    Alone in its transaction (as the API places it), the order needs no savepoint: a conflict
    rolls the whole back, which holds nothing else, and the winner is looked up afresh."""
    alone = not uow.session.in_transaction()
    try:
        with contextlib.nullcontext() if alone else uow.session.begin_nested():
            order = new_order(cmd)
            insert_order(uow.session, order)
            body = order_view(order, config)
            if cmd.idempotency:
                answer = cmd.idempotency.answer(order.number, body, clock.now())
                uow.session.execute(insert_into(IdempotencyKey.__table__), [row_values(answer)])
    except IntegrityError:
        if alone:
            uow.rollback()
        if cmd.idempotency and (row := idempotency.replay(uow.session, cmd.idempotency)):
            return row.response, row.status_code
        if cmd.source_key and (earlier := queries.ordered_as(uow.session, cmd.source_key)):
            raise AlreadyOrdered(_source_name(cmd), earlier) from None
        raise
    uow.record("orders.order.placed", events.order_placed(order, config.portal_base_url))
    return body, 201


def row_values(obj) -> dict:
    """A new ORM object's column values as a Core insert takes them: an unset column with a
    constant default gets it, an unset primary key is left to the database. (The constructors
    here set every column whose default is computed, such as ``placed_at``.)"""
    values = {}
    for attr in inspect(type(obj)).column_attrs:
        column = attr.columns[0]
        value = getattr(obj, attr.key)
        if value is None and column.default is not None and column.default.is_scalar:
            value = column.default.arg
        if value is None and column.primary_key:
            continue
        values[column.key] = value
    return values


# Built once: building them for every order cost more than sending them.
INSERT_ORDER = insert(Order.__table__).returning(Order.__table__.c.id)
NUMBER_ORDER = (
    update(Order.__table__)
    .where(Order.__table__.c.id == bindparam("order_id"))
    .values(number=bindparam("new_number"))
)


def _order_number_of(row_id):
    """``O-<year>-`` and the row id in at least six digits (as :func:`number_of` writes it)."""
    digits = cast(row_id, Text)
    return bindparam("number_prefix", type_=String) + func.lpad(
        digits, func.greatest(6, func.length(digits)), "0"
    )


# PostgreSQL: the number written by the INSERT itself.
INSERT_NUMBERED_ORDER = numbered_insert(Order.__table__, _order_number_of)


def number_of(order: Order) -> str:
    """An order's number derives from its row id."""
    return f"O-{order.placed_at.year}-{order.id:06d}"


def insert_order(session, order: Order) -> None:
    """Store a new order and its lines with Core statements; ``order`` gets its id and number.

    The order stays out of the session (its view and event read it as built): the ORM's flush of
    the same objects was a third of the web process's CPU per order. On PostgreSQL the number is
    written by the INSERT; elsewhere by an UPDATE after it, once the id is known."""
    values = row_values(order)
    if session.get_bind().dialect.name == "postgresql":
        del values["number"]
        values["number_prefix"] = f"O-{order.placed_at.year}-"
        order.id, order.number = session.execute(INSERT_NUMBERED_ORDER, values).one()
    else:
        order.id = session.execute(INSERT_ORDER, [values]).scalar_one()
        order.number = number_of(order)
        session.execute(NUMBER_ORDER, {"order_id": order.id, "new_number": order.number})
    for line in order.lines:
        line.order_id = order.id
    if order.lines:
        lines = [row_values(line) for line in order.lines]
        session.execute(insert_into(OrderLine.__table__), lines)


def _source_name(cmd: PlaceOrder) -> str:
    return "quote" if cmd.source_kind == "quote" else "cart"


def new_order(cmd: PlaceOrder) -> Order:
    buyer = cmd.buyer
    order = Order(
        status=OrderStatus.PLACED,
        payment_status=PaymentStatus.INVOICED
        if cmd.payment_kind == "po"
        else PaymentStatus.PENDING,
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
        # Tax lines as the JSON column keeps them: decimals as exact strings.
        tax=[
            {
                "rate": str(Decimal(t["rate"])),
                "amount": str(Decimal(t["amount"])),
                "note": t["note"],
            }
            for t in cmd.tax
        ],
        total=cmd.total,
        po_number=cmd.po_number,
        payment_kind=cmd.payment_kind,
        payment_method_id=cmd.payment_method_id,
        send_activation_email=cmd.send_activation_email,
        source_kind=cmd.source_kind,
        source_reference=cmd.source_reference,
        source_key=cmd.source_key,
        billing_address=cmd.billing_address,
        licenses=[],  # none yet: the view after the flush need not ask the database
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
    return order


def cancel_order(cmd: CancelOrder, uow: UnitOfWork, config: OrdersConfig, clock: Clock) -> Order:
    """Cancel within the window; billing credits the invoice, license-assign removes licenses."""
    order = queries.find_order(uow.session, cmd.by, cmd.number, lock=True)
    order.cancel(
        clock.now(), window_days=config.cancel_window_days, by=cmd.by.buyer(), reason=cmd.reason
    )
    uow.record("orders.order.cancelled", events.order_cancelled(order))
    return order


def resend_licenses(cmd: ResendLicenses, uow: UnitOfWork, clock: Clock) -> dict:
    """Ask notifications to email the licenses again; returns what was asked."""
    order = queries.find_order(uow.session, cmd.by, cmd.number, lock=True)
    requested = events.email_requested(order, order.licenses_to_resend(), clock.now())
    uow.record("orders.licenses.resend_requested", requested)
    return requested


def request_activation_email(cmd: RequestActivationEmail, uow: UnitOfWork, clock: Clock) -> dict:
    """Ask notifications for the customer's activation e-mail; returns what was asked."""
    order = queries.find_order(uow.session, cmd.by, cmd.number, lock=True)
    requested = events.email_requested(order, order.licenses_to_activate(), clock.now())
    uow.record("orders.activation_email.requested", requested)
    return requested


# -- what other services tell us -----------------------------------------------------------------


# What billing's and license-assign's reports change on an order: loading only these spares
# hydrating its ~35 columns (JSON among them) for every report, two per order.
REPORTED = load_only(
    Order.id,
    Order.number,
    Order.invoice_number,
    Order.credit_note_number,
    Order.payment_status,
    Order.payment_failure_reason,
)


# Built once (their construction and cache keys cost more than their round trips).
REPORTED_ORDER = select(Order).options(REPORTED).where(Order.number == bindparam("number"))
ORDER_ID = select(Order.id).where(Order.number == bindparam("number"))
# A reported license, stored unless the order shows it already (unique per order).
ADD_LICENSE = PerDialect(
    lambda insert: insert(OrderLicense.__table__).on_conflict_do_nothing(
        index_elements=["order_id", "license_id"]
    )
)


def _unknown(what: str, event: Event) -> LookupError:
    # Billing and license-assign learn of an order only from our own event: an unknown number
    # is a real fault, retried and then dead-lettered rather than dropped.
    return LookupError(f"{what} for unknown order {event.payload['order_number']}")


def _order(uow: UnitOfWork, event: Event, what: str) -> Order:
    order = uow.session.scalar(REPORTED_ORDER, {"number": event.payload["order_number"]})
    if order is None:
        raise _unknown(what, event)
    return order


def _billed_order(event: Event, uow: UnitOfWork) -> Order:
    order = _order(uow, event, event.type)
    if order.invoice_number is None and event.payload.get("invoice_number"):
        order.invoice_number = event.payload["invoice_number"]
    return order


def record_invoice(event: Event, uow: UnitOfWork) -> None:
    _billed_order(event, uow).record_invoice(
        event.payload["invoice_number"], event.payload["status"]
    )


def record_payment_captured(event: Event, uow: UnitOfWork) -> None:
    _billed_order(event, uow).record_capture()


def record_payment_failed(event: Event, uow: UnitOfWork) -> None:
    _billed_order(event, uow).record_failure(event.payload["reason"])


def record_credit_note(event: Event, uow: UnitOfWork) -> None:
    _billed_order(event, uow).record_credit_note(
        event.payload["credit_note_number"], event.payload["refunded"]
    )


def record_licenses(event: Event, uow: UnitOfWork) -> None:
    """The licenses license-assign issued for the order; one it already shows is not added
    again. Core statements: the ORM loaded the order and its licenses to append one row."""
    session = uow.session
    order_id = session.scalar(ORDER_ID, {"number": event.payload["order_number"]})
    if order_id is None:
        raise _unknown("licenses", event)
    rows = [
        {"order_id": order_id, "license_id": lic["license_id"], "product": lic["product"]}
        for lic in event.payload["licenses"]
    ]
    if rows:
        session.execute(ADD_LICENSE(session.get_bind()), rows)


COMMAND_HANDLERS = {
    PlaceOrder: place_order,
    CancelOrder: cancel_order,
    ResendLicenses: resend_licenses,
    RequestActivationEmail: request_activation_email,
}

EVENT_HANDLERS = {
    "billing.invoice.issued": [record_invoice],
    "billing.payment.captured": [record_payment_captured],
    "billing.payment.failed": [record_payment_failed],
    "billing.credit_note.issued": [record_credit_note],
    "licensing.licenses.issued": [record_licenses],
}
