"""Renewals: what an order's renewal, upgrade and downgrade lines do to the licenses they name,
and how the renewals list groups licenses and which actions it offers on a group."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select

from license_assign.assignments import issue_code, publish_assigned
from license_assign.config import LicenseAssignConfig
from license_assign.fallback import refresh_fallback
from license_assign.models import ALL_PRODUCTS, Customer, License, LicenseOrder
from license_assign.ports import CodeSigner
from portal_runtime import logs
from portal_runtime.clock import Clock
from portal_runtime.uow import UnitOfWork

log = logs.get("license_assign.handlers")


def settle_downgrade(lic: License, today: dt.date) -> bool:
    """Apply a downgrade whose day has come; True when the product changed."""
    if lic.downgrade_to and lic.downgrade_on and lic.downgrade_on <= today:
        lic.product = lic.downgrade_to
        lic.downgrade_to = lic.downgrade_on = None
        return True
    return False


def change_licenses(
    uow: UnitOfWork,
    customer: Customer,
    order: dict,
    line: dict,
    *,
    codes: CodeSigner,
    clock: Clock,
    config: LicenseAssignConfig,
) -> list[License]:
    """A renewal, upgrade or downgrade: the same license ids, new dates or product."""
    session = uow.session
    today = clock.today()
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
            issue_code(lic, codes, clock)
            publish_assigned(
                uow,
                customer,
                lic,
                "renewed",
                clock=clock,
                config=config,
                order_number=order["order_number"],
            )
        changed.append(lic)
    return changed


# -- the renewals list ---------------------------------------------------------------------------


def renewal_key(valid_until: dt.date, pack: str, product: str) -> str:
    """A renewal group's key as its cursor says it: end date (ISO), pack, product."""
    return f"{valid_until.isoformat()} {pack} {product}"


def parse_renewal_key(key: str) -> tuple[dt.date, str, str]:
    """The key :func:`renewal_key` wrote; ValueError for anything else."""
    day, pack, product = key.split(" ", 2)
    return dt.date.fromisoformat(day), pack, product


def allowed_actions(product: str, active: bool) -> list[str]:
    """Renewing is always offered; All Products Pack may also be downgraded (at renewal), and a
    single product still active may be upgraded to it for the rest of its term."""
    if product == ALL_PRODUCTS:
        return ["renew", "downgrade"]
    return ["renew", "upgrade"] if active else ["renew"]


def renewal_groups(found, rows, numbers: dict, today: dt.date) -> list[dict]:
    """One renewable group per ``(valid_until, pack, product)`` of ``found``, with its licenses
    (``rows``) and its visible order and PO numbers (``numbers``: ``{(valid_until, pack_pk,
    product): (orders, pos)}``)."""
    members: dict[tuple, list] = defaultdict(list)
    for row in rows:
        members[(row.valid_until, row.pack_pk, row.product)].append(row)
    groups = []
    for group in found:
        valid_until, pack, product, pack_pk = group
        these = members[(valid_until, pack_pk, product)]
        orders, pos = numbers.get((valid_until, pack_pk, product), ((), ()))
        active = valid_until >= today
        teams = {m.team_id for m in these}
        groups.append(
            {
                "product": product,
                "subscription_pack": pack,
                "team_id": teams.pop() if len(teams) == 1 else None,
                "valid_until": valid_until,
                "status": "active" if active else "expired",
                "quantity": len(these),
                "license_ids": [m.license_id for m in these],
                "order_numbers": sorted(orders),
                "po_numbers": sorted(pos),
                "allowed_actions": allowed_actions(product, active),
            }
        )
    return groups
