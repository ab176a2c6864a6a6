"""What license-assign does when orders and billing tell it something.

- ``orders.order.placed``: a ``new`` line issues one license per seat; ``renewal``, ``upgrade``
  and ``downgrade`` lines change the licenses they name (same ids). One
  ``licensing.licenses.issued`` per line.
- ``orders.order.cancelled``: the order's licenses are revoked and removed; what its renewal
  lines changed is undone.
- ``billing.payment.failed`` / ``captured``: a grace date on the order's licenses, then lifted.

Every handler is guarded, so a replay (even with a new message id) changes nothing.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select, update

from license_assign import accounts, events, views
from license_assign.assignments import issue_code, revoke
from license_assign.config import LicenseAssignConfig
from license_assign.fallback import refresh_fallback
from license_assign.issuance import issue_seats, line_pack, line_team
from license_assign.models import Customer, EarlyPaymentNotice, License, LicenseOrder, OrderRecord
from license_assign.ports import CodeSigner
from license_assign.renewals import change_licenses
from portal_runtime import logs
from portal_runtime.clock import Clock
from portal_runtime.consumer import Event
from portal_runtime.uow import UnitOfWork

log = logs.get("license_assign.handlers")

# Built once, on the table: the replay guard's look through Session.get (an ORM load, its
# statement built and keyed for the cache each time) cost twice the round trip.
_ORDER_RECORDS = OrderRecord.__table__
_RECORDED = select(_ORDER_RECORDS.c.order_number).where(
    _ORDER_RECORDS.c.order_number == bindparam("number")
)
# The early notice, taken (deleted and read) in one statement rather than looked up, then deleted.
_TAKE_NOTICE = (
    delete(EarlyPaymentNotice)
    .where(EarlyPaymentNotice.order_number == bindparam("number"))
    .returning(EarlyPaymentNotice.grace_until)
)


def recorded(session, number: str) -> bool:
    """Whether this service has a record of the order (placed, or cancelled before that)."""
    session.flush()  # one added earlier in this transaction (a batch's cancellation) counts
    return session.execute(_RECORDED, {"number": number}).first() is not None


def handle_order_placed(
    event: Event,
    uow: UnitOfWork,
    codes: CodeSigner,
    clock: Clock,
    config: LicenseAssignConfig,
) -> None:
    order = event.payload
    session = uow.session
    if recorded(session, order["order_number"]):
        return  # handled before (or cancelled before we saw it): nothing to do twice
    who = order["customer"]
    customer = accounts.ensure_customer(session, who["id"], who["name"], who.get("email"))
    session.add(
        OrderRecord(
            order_number=order["order_number"],
            customer_id=customer.id,
            po_number=order.get("po_number"),
            reseller_id=placing_reseller(order),
            placed_at=order["placed_at"],
        )
    )
    session.flush()
    today = clock.today()
    for line in order["lines"]:
        if line["kind"] == "new":
            issued = issue_seats(
                session,
                customer_id=customer.id,
                team=line_team(session, customer, line),
                pack=line_pack(session, customer, line),
                order_number=order["order_number"],
                po_number=order.get("po_number"),
                line=line,
                today=today,
            )
        else:
            licenses = change_licenses(
                uow, customer, order, line, codes=codes, clock=clock, config=config
            )
            issued = [views.issued_view(lic, today) for lic in licenses]
        uow.record(
            "licensing.licenses.issued", events.licenses_issued(order, customer, line, issued)
        )
    grace_until = session.execute(_TAKE_NOTICE, {"number": order["order_number"]}).scalar()
    if grace_until is not None:
        session.execute(
            update(License)
            .where(License.id.in_(order_license_pks(order["order_number"])))
            .values(grace_until=grace_until)
            .execution_options(synchronize_session="fetch")
        )


def placing_reseller(order: dict) -> str | None:
    """The reseller that placed an order (or cancelled one we never saw placed): its buyer when
    that is a reseller; None when the customer bought itself."""
    buyer = order.get("buyer") or {}
    if buyer.get("kind") != "reseller":
        return None
    return buyer.get("reseller_id") or order.get("reseller_id")


def handle_order_cancelled(event: Event, uow: UnitOfWork, codes: CodeSigner, clock: Clock) -> None:
    payload = event.payload
    session = uow.session
    record = session.get(OrderRecord, payload["order_number"])
    now = clock.now()
    if record is None:
        # Cancelled before we saw it placed: remember, so the placement issues nothing.
        session.add(
            OrderRecord(
                order_number=payload["order_number"],
                customer_id=payload["customer"]["id"],
                reseller_id=placing_reseller(payload),
                placed_at=payload["cancelled_at"],
                cancelled_at=payload["cancelled_at"],
            )
        )
        return
    if record.cancelled_at is not None:
        return
    record.cancelled_at = payload["cancelled_at"] or now
    customer = session.get(Customer, record.customer_id)
    links = session.scalars(
        select(LicenseOrder)
        .where(LicenseOrder.order_number == record.order_number)
        .order_by(LicenseOrder.id.desc())
    ).all()
    for link in links:
        lic = link.license
        if lic.removed_at is not None:
            continue
        if link.kind == "new":
            if lic.assignee_email:
                revoke(uow, customer, lic, now, reason="order_cancelled")
            lic.removed_at = now
        else:
            lic.valid_until = link.previous_valid_until or lic.valid_until
            lic.product = link.previous_product or lic.product
            if link.kind == "downgrade":
                lic.downgrade_to = lic.downgrade_on = None
                lic.no_fallback_until = None
            refresh_fallback(session, lic, clock.today())
            if lic.assignee_email:
                issue_code(lic, codes, clock)


def order_license_pks(order_number: str):
    """The keys of the live licenses an order issued or changed (a subquery)."""
    return (
        select(LicenseOrder.license_pk)
        .join(License, License.id == LicenseOrder.license_pk)
        .where(LicenseOrder.order_number == order_number, License.removed_at.is_(None))
    )


def handle_payment_failed(event: Event, uow: UnitOfWork) -> None:
    number, grace_until = event.payload["order_number"], event.payload["grace_until"]
    session = uow.session
    if not recorded(session, number):
        # Billing was faster than our copy of the order: keep the notice for when it arrives.
        notice = session.get(EarlyPaymentNotice, number)
        if notice is None:
            session.add(EarlyPaymentNotice(order_number=number, grace_until=grace_until))
        else:
            notice.grace_until = grace_until
        log.info("payment_failed.order_not_seen_yet", order=number)
        return
    # They stay usable until then; the grace job suspends them afterwards.
    session.execute(
        update(License)
        .where(License.id.in_(order_license_pks(number)))
        .values(grace_until=grace_until)
        .execution_options(synchronize_session="fetch")
    )


def handle_payment_captured(event: Event, uow: UnitOfWork) -> None:
    number = event.payload["order_number"]
    notice = uow.session.get(EarlyPaymentNotice, number)
    if notice is not None:
        uow.session.delete(notice)
    uow.session.execute(
        update(License)
        .where(License.id.in_(order_license_pks(number)))
        .values(grace_until=None, suspended=False)
        .execution_options(synchronize_session="fetch")
    )
