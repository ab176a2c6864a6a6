"""What license-assign does when orders and billing tell it something, and its periodic work.

- ``orders.order.placed``: a ``new`` line issues one license per seat; ``renewal``, ``upgrade``
  and ``downgrade`` lines change the licenses they name (same ids). One
  ``licensing.licenses.issued`` per line.
- ``orders.order.cancelled``: the order's licenses are revoked and removed; what its renewal
  lines changed is undone.
- ``billing.payment.failed`` / ``captured``: a grace date on the order's licenses, then lifted.

Every handler is guarded, so a replay (even with a new message id) changes nothing. Handlers take
``(event, uow, ctx)``; :func:`bind` closes over the context for the consumer.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlalchemy import select, update

from license_assign import accounts
from license_assign.assignments import Licensing, issue_code, publish_assigned, revoke
from license_assign.fallback import refresh_fallback
from license_assign.issuance import issue_seats
from license_assign.models import (
    ALL_PRODUCTS,
    Customer,
    EarlyPaymentNotice,
    License,
    LicenseOrder,
    OrderRecord,
)
from portal_runtime import logs
from portal_runtime.consumer import Event
from portal_runtime.uow import UnitOfWork

log = logs.get("license_assign.handlers")


# -- orders.order.placed ------------------------------------------------------------------------


def handle_order_placed(event: Event, uow: UnitOfWork, ctx: Licensing) -> None:
    order = event.payload
    session = uow.session
    if session.get(OrderRecord, order["order_number"]) is not None:
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
    for line in order["lines"]:
        if line["kind"] == "new":
            issued = issue_new(session, ctx, customer, order, line)
        else:
            licenses = change_existing(uow, ctx, customer, order, line)
            issued = [issued_view(lic, ctx.today()) for lic in licenses]
        uow.record(
            "licensing.licenses.issued",
            {
                "order_number": order["order_number"],
                "customer_id": customer.id,
                "customer_name": customer.name,
                "line_no": line["line_no"],
                "kind": line["kind"],
                "licenses": issued,
            },
        )
    notice = session.get(EarlyPaymentNotice, order["order_number"])
    if notice is not None:
        session.execute(
            update(License)
            .where(License.id.in_(order_license_pks(order["order_number"])))
            .values(grace_until=notice.grace_until)
            .execution_options(synchronize_session="fetch")
        )
        session.delete(notice)


def placing_reseller(order: dict) -> str | None:
    """The reseller that placed an order (or cancelled one we never saw placed): its buyer when
    that is a reseller; None when the customer bought itself."""
    buyer = order.get("buyer") or {}
    if buyer.get("kind") != "reseller":
        return None
    return buyer.get("reseller_id") or order.get("reseller_id")


def issued_view(lic: License, today: dt.date) -> dict:
    return {
        "license_id": lic.license_id,
        "product": lic.product,
        "valid_from": lic.valid_from,
        "valid_until": lic.valid_until,
        "team_id": lic.team.team_id,
        "subscription_pack": lic.pack.number,
        "fallback_version": lic.fallback_version,
        "status": lic.status(today),
        "assignee": lic.assignee,
        "activation_code": lic.activation_code,
    }


def line_team(session, customer: Customer, line: dict):
    if line.get("team_id"):
        team = accounts.find_team(session, customer.id, line["team_id"])
        if team is not None:
            return team
        log.warning("order.unknown_team", team_id=line["team_id"], customer_id=customer.id)
    if line.get("team_name"):
        return accounts.team_named(session, customer.id, line["team_name"].strip())
    return accounts.default_team(session, customer.id)


def line_pack(session, customer: Customer, line: dict):
    if line.get("subscription_pack"):
        pack = accounts.find_pack(session, line["subscription_pack"])
        if pack is not None and pack.customer_id == customer.id:
            return pack
        log.warning("order.unknown_pack", pack=line["subscription_pack"], customer_id=customer.id)
    return accounts.create_pack(session, customer.id)


def issue_new(session, ctx: Licensing, customer: Customer, order: dict, line: dict) -> list[dict]:
    """One license per seat, inserted as a set (:mod:`license_assign.issuance`)."""
    return issue_seats(
        session,
        customer_id=customer.id,
        team=line_team(session, customer, line),
        pack=line_pack(session, customer, line),
        order_number=order["order_number"],
        po_number=order.get("po_number"),
        line=line,
        today=ctx.today(),
    )


def change_existing(uow: UnitOfWork, ctx: Licensing, customer: Customer, order: dict, line: dict):
    """A renewal, upgrade or downgrade: the same license ids, new dates or product."""
    session = uow.session
    today = ctx.today()
    changed = []
    wanted = list(dict.fromkeys(line.get("license_ids") or []))
    rows = session.scalars(
        select(License).where(
            License.license_id.in_(wanted),
            License.customer_id == customer.id,
            License.removed_at.is_(None),
        )
    ).all()
    found = {lic.license_id: lic for lic in rows}
    missing = [lid for lid in wanted if lid not in found]
    if missing:
        log.warning("order.unknown_licenses", license_ids=missing, order=order["order_number"])
    for lid in wanted:
        lic = found.get(lid)
        if lic is None:
            continue
        session.add(
            LicenseOrder(
                license_pk=lic.id,
                order_number=order["order_number"],
                line_no=line["line_no"],
                kind=line["kind"],
                po_number=order.get("po_number"),
                previous_valid_until=lic.valid_until,
                previous_product=lic.product,
            )
        )
        start, end = line["start_date"], line["end_date"]
        if line["kind"] == "renewal":
            settle_downgrade(lic, today)
            if start > lic.valid_until + dt.timedelta(days=1):
                lic.paid_since = start  # a gap: a new run of paid months begins
            lic.valid_until = max(end, lic.valid_until)
        elif line["kind"] == "upgrade":
            lic.product = ALL_PRODUCTS
            lic.downgrade_to = lic.downgrade_on = None
            lic.valid_until = max(end, lic.valid_until)
        elif line["kind"] == "downgrade":
            # The product changes when the current term ends; that year gives no fallback.
            lic.downgrade_to = line["product"]
            lic.downgrade_on = min(start, lic.valid_until + dt.timedelta(days=1))
            lic.paid_since = lic.downgrade_on
            lic.valid_until = max(end, lic.valid_until)
            lic.no_fallback_until = lic.valid_until
            settle_downgrade(lic, today)
        refresh_fallback(session, lic, today)
        if lic.assignee_email:
            # A renewal (or a changed product) gives the holder a new activation code.
            issue_code(ctx, lic)
            publish_assigned(uow, ctx, customer, lic, "renewed", order["order_number"])
        changed.append(lic)
    return changed


def settle_downgrade(lic: License, today: dt.date) -> bool:
    """Apply a downgrade whose day has come; True when the product changed."""
    if lic.downgrade_to and lic.downgrade_on and lic.downgrade_on <= today:
        lic.product = lic.downgrade_to
        lic.downgrade_to = lic.downgrade_on = None
        return True
    return False


# -- orders.order.cancelled ---------------------------------------------------------------------


def handle_order_cancelled(event: Event, uow: UnitOfWork, ctx: Licensing) -> None:
    payload = event.payload
    session = uow.session
    record = session.get(OrderRecord, payload["order_number"])
    now = ctx.clock.now()
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
                revoke(uow, ctx, customer, lic, reason="order_cancelled")
            lic.removed_at = now
        else:
            lic.valid_until = link.previous_valid_until or lic.valid_until
            lic.product = link.previous_product or lic.product
            if link.kind == "downgrade":
                lic.downgrade_to = lic.downgrade_on = None
                lic.no_fallback_until = None
            refresh_fallback(session, lic, ctx.today())
            if lic.assignee_email:
                issue_code(ctx, lic)


# -- billing.payment.failed / captured ----------------------------------------------------------


def order_license_pks(order_number: str):
    """The keys of the live licenses an order issued or changed (a subquery)."""
    return (
        select(LicenseOrder.license_pk)
        .join(License, License.id == LicenseOrder.license_pk)
        .where(LicenseOrder.order_number == order_number, License.removed_at.is_(None))
    )


def handle_payment_failed(event: Event, uow: UnitOfWork, ctx: Licensing) -> None:
    number, grace_until = event.payload["order_number"], event.payload["grace_until"]
    session = uow.session
    if session.get(OrderRecord, number) is None:
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


def handle_payment_captured(event: Event, uow: UnitOfWork, ctx: Licensing) -> None:
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


# -- the worker's periodic job ------------------------------------------------------------------


def enforce_grace_and_downgrades(service) -> int:
    """Suspend licenses whose payment grace has passed; apply downgrades that are due."""
    ctx: Licensing = service.licensing
    today = ctx.today()
    changed = 0
    with service.uow() as uow:
        overdue = uow.session.scalars(
            select(License)
            .where(
                License.grace_until.is_not(None),
                License.grace_until < today,
                License.suspended.is_(False),
                License.removed_at.is_(None),
            )
            # Several workers may run this job: each row is handled by one of them.
            .with_for_update(skip_locked=True, of=License)
        ).all()
        for lic in overdue:
            lic.suspended = True
            changed += 1
        due = uow.session.scalars(
            select(License)
            .where(
                License.downgrade_on.is_not(None),
                License.downgrade_on <= today,
                License.removed_at.is_(None),
            )
            .with_for_update(skip_locked=True, of=License)
        ).all()
        for lic in due:
            settle_downgrade(lic, today)
            refresh_fallback(uow.session, lic, today)
            if lic.assignee_email:
                issue_code(ctx, lic)
                customer = uow.session.get(Customer, lic.customer_id)
                publish_assigned(uow, ctx, customer, lic, "renewed")
            changed += 1
        uow.commit()
    if changed:
        log.info("licenses.housekeeping", suspended=len(overdue), downgraded=len(due))
    return changed


EVENT_HANDLERS = {
    "orders.order.placed": [handle_order_placed],
    "orders.order.cancelled": [handle_order_cancelled],
    "billing.payment.failed": [handle_payment_failed],
    "billing.payment.captured": [handle_payment_captured],
}


def bind(ctx: Licensing) -> dict:
    """The handlers as the consumer calls them, ``(event, uow)``, with the context bound."""
    return {
        event_type: [partial(handler, ctx=ctx) for handler in handlers]
        for event_type, handlers in EVENT_HANDLERS.items()
    }
