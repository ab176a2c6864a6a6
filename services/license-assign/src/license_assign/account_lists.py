"""The grouped lists of a customer account (active users, subscription packs, renewals) and its
licensing report, grouped and paged in SQL.

Each list pages with a keyset cursor over its group key (a person's email, a pack's number, a
renewal's end date, pack and product): one query finds the page's groups after the cursor, a
second reads only those groups' licenses (plain rows, not ORM objects). A page costs the same in
an account of fifty thousand licenses as in one of fifty, and a group added or removed between two
pages neither repeats nor skips another one. The report streams its CSV from a server-side cursor:
the first bytes leave at once and memory stays flat however big the account.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
from collections import defaultdict

from flask import Blueprint, Response, request, stream_with_context
from sqlalchemy import exists, false, select, true, tuple_

from license_assign import accounts, views
from license_assign.api import acting_on, ctx
from license_assign.issuance import chunks
from license_assign.models import (
    ALL_PRODUCTS,
    License,
    LicenseOrder,
    OrderRecord,
    SubscriptionPack,
    Team,
)
from portal_contracts.api.licenses import RenewalSearchArgs
from portal_runtime.problems import invalid
from portal_runtime.queries import equals_ci, parse_limit
from portal_runtime.web import current_identity, current_service

bp = Blueprint("license_assign_lists", __name__)

# The columns a list or the report shows of a license, read as plain rows.
LICENSE_COLUMNS = (
    License.id,
    License.license_id,
    License.product,
    License.valid_from,
    License.valid_until,
    License.suspended,
    License.fallback_version,
    License.grace_until,
    License.downgrade_to,
    License.assignee_first_name,
    License.assignee_last_name,
    License.assignee_email,
    License.pack_pk,
    Team.team_id,
    Team.name.label("team_name"),
    SubscriptionPack.number.label("pack_number"),
)


def license_rows(customer_id: str):
    """The account's live licenses with their team and pack, as rows (``LICENSE_COLUMNS``)."""
    return (
        select(*LICENSE_COLUMNS)
        .join(Team, Team.id == License.team_pk)
        .join(SubscriptionPack, SubscriptionPack.id == License.pack_pk)
        .where(License.customer_id == customer_id, License.removed_at.is_(None))
    )


def status_of(row, today: dt.date) -> str:
    return License.status(row, today)  # the same rule, read from the row's columns


# -- cursors: the last group key of a page, opaque to the caller ---------------------------------


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
    except ValueError:
        raise invalid({"cursor": ["Not a cursor this list gave out."]})


def page_of_keys(keys: list, limit: int, key_text) -> tuple[list, str | None]:
    """The first ``limit`` of ``limit + 1`` keys read, and the cursor after them (if more)."""
    if len(keys) > limit:
        return keys[:limit], encode_cursor(key_text(keys[limit - 1]))
    return keys, None


def list_args() -> tuple[int, str | None]:
    return parse_limit(request.args.get("limit")), request.args.get("cursor") or None


# -- which orders the caller sees ----------------------------------------------------------------


def visible_orders():
    """Which orders' numbers (order and PO) the caller may see and search by on an account it
    may act on: a reseller only those its own reseller placed (not other resellers' nor the
    customer's own, nor orders recorded before the placing reseller was kept); the account's
    customer admin (or a service) all of them."""
    identity = current_identity()
    if identity.is_reseller:
        if not identity.reseller_id:
            return false()
        return OrderRecord.reseller_id == identity.reseller_id
    return true()


def license_orders():
    """License-order links the caller may see (:func:`visible_orders`)."""
    return (
        select(LicenseOrder.license_pk)
        .join(OrderRecord, OrderRecord.order_number == LicenseOrder.order_number)
        .where(visible_orders())
    )


def numbers_by_license(session, license_pks: list[int]) -> tuple[dict, dict]:
    """Visible order numbers and PO numbers of each license, ``{pk: [number]}`` twice."""
    orders: dict[int, list[str]] = defaultdict(list)
    pos: dict[int, list[str]] = defaultdict(list)
    for part in chunks(license_pks):
        query = license_orders().add_columns(LicenseOrder.order_number, LicenseOrder.po_number)
        for pk, number, po in session.execute(query.where(LicenseOrder.license_pk.in_(part))):
            orders[pk].append(number)
            if po is not None:
                pos[pk].append(po)
    return orders, pos


# -- active users --------------------------------------------------------------------------------


@bp.get("/customers/<customer_id>/users")
def list_users(customer_id: str):
    acting_on(customer_id)
    limit, cursor = list_args()
    today = ctx().today()
    held = [
        License.customer_id == customer_id,
        License.removed_at.is_(None),
        License.assignee_email.is_not(None),
    ]
    if request.args.get("email"):
        held.append(equals_ci(License.assignee_email, request.args["email"]))
    people = select(License.assignee_email).where(*held)
    if cursor:
        people = people.where(License.assignee_email > decode_cursor(cursor))
    with current_service().sessions() as session:
        emails = list(
            session.scalars(
                people.group_by(License.assignee_email)
                .order_by(License.assignee_email)
                .limit(limit + 1)
            )
        )
        emails, next_cursor = page_of_keys(emails, limit, str)
        rows = (
            session.execute(
                license_rows(customer_id)
                .where(License.assignee_email.in_(emails))
                .order_by(License.id)
            ).all()
            if emails
            else []
        )
    found: dict[str, dict] = {}
    for row in rows:
        person = found.setdefault(
            row.assignee_email,
            {
                "email": row.assignee_email,
                "first_name": row.assignee_first_name,
                "last_name": row.assignee_last_name,
                "licenses": [],
            },
        )
        person["licenses"].append(
            {
                "license_id": row.license_id,
                "product": row.product,
                "team_id": row.team_id,
                "status": status_of(row, today),
                "valid_until": row.valid_until,
            }
        )
    items = [views.USER.dump(found[email]) for email in emails if email in found]
    return {"items": items, "next_cursor": next_cursor}


# -- subscription packs --------------------------------------------------------------------------


@bp.get("/customers/<customer_id>/subscription-packs")
def list_packs(customer_id: str):
    acting_on(customer_id)
    limit, cursor = list_args()
    live = exists().where(License.pack_pk == SubscriptionPack.id, License.removed_at.is_(None))
    packs = select(SubscriptionPack.id, SubscriptionPack.number).where(
        SubscriptionPack.customer_id == customer_id, live
    )
    if cursor:
        packs = packs.where(SubscriptionPack.number > decode_cursor(cursor))
    with current_service().sessions() as session:
        accounts.require_customer(session, customer_id)
        found = session.execute(packs.order_by(SubscriptionPack.number).limit(limit + 1)).all()
        found, next_cursor = page_of_keys(found, limit, lambda p: p.number)
        rows = (
            session.execute(
                license_rows(customer_id)
                .where(License.pack_pk.in_([p.id for p in found]))
                .order_by(License.id)
            ).all()
            if found
            else []
        )
        orders, _ = numbers_by_license(session, [r.id for r in rows])
    members: dict[str, dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        members[row.pack_number][(row.product, row.valid_until)].append(row)
    items = []
    for pack in found:
        subscriptions = []
        for (product, valid_until), group in sorted(members[pack.number].items()):
            subscriptions.append(
                {
                    "product": product,
                    "valid_until": valid_until,
                    "quantity": len(group),
                    "license_ids": [r.license_id for r in group],
                    "order_numbers": sorted({o for r in group for o in orders.get(r.id, [])}),
                }
            )
        ends = {s["valid_until"] for s in subscriptions}
        items.append(
            views.PACK.dump(
                {
                    "number": pack.number,
                    "subscriptions": subscriptions,
                    "common_end_date": next(iter(ends)) if len(ends) == 1 else None,
                    "latest_end_date": max(ends) if ends else None,
                }
            )
        )
    return {"items": items, "next_cursor": next_cursor}


# -- renewals search -----------------------------------------------------------------------------


def renewal_key(valid_until: dt.date, pack: str, product: str) -> str:
    """A renewal group's key as its cursor says it: end date (ISO), pack, product."""
    return f"{valid_until.isoformat()} {pack} {product}"


def renewal_cursor(cursor: str) -> tuple[dt.date, str, str]:
    try:
        day, pack, product = decode_cursor(cursor).split(" ", 2)
        return dt.date.fromisoformat(day), pack, product
    except ValueError:
        raise invalid({"cursor": ["Not a cursor this list gave out."]})


def allowed_actions(product: str, active: bool) -> list[str]:
    """Renewing is always offered; All Products Pack may also be downgraded (at renewal), and a
    single product still active may be upgraded to it for the rest of its term."""
    if product == ALL_PRODUCTS:
        return ["renew", "downgrade"]
    return ["renew", "upgrade"] if active else ["renew"]


@bp.get("/customers/<customer_id>/renewals")
def search_renewals(customer_id: str):
    acting_on(customer_id)
    raw = request.args.to_dict()
    if request.args.getlist("license_id"):
        raw["license_id"] = request.args.getlist("license_id")
    args = RenewalSearchArgs().load(raw)
    limit, cursor = list_args()
    today = ctx().today()
    wanted = [License.customer_id == customer_id, License.removed_at.is_(None)]
    if args.get("license_id"):
        wanted.append(License.license_id.in_([x.strip() for x in args["license_id"]]))
    if args.get("assignee_email"):
        wanted.append(equals_ci(License.assignee_email, args["assignee_email"]))
    if args.get("subscription_pack"):
        wanted.append(SubscriptionPack.number == args["subscription_pack"].strip().upper())
    if args.get("product"):
        wanted.append(License.product == args["product"].strip().upper())
    for field in ("po_number", "order_number"):
        if args.get(field):
            column = getattr(LicenseOrder, field)
            wanted.append(License.id.in_(license_orders().where(equals_ci(column, args[field]))))
    key = (License.valid_until, SubscriptionPack.number, License.product)
    groups = (
        select(*key, License.pack_pk)
        .join(SubscriptionPack, SubscriptionPack.id == License.pack_pk)
        .where(*wanted)
    )
    if cursor:
        groups = groups.where(tuple_(*key) > tuple_(*renewal_cursor(cursor)))
    with current_service().sessions() as session:
        found = session.execute(
            groups.group_by(*key, License.pack_pk).order_by(*key).limit(limit + 1)
        ).all()
        found, next_cursor = page_of_keys(found, limit, lambda g: renewal_key(*g[:3]))
        rows = []
        if found:
            in_page = tuple_(License.valid_until, License.pack_pk, License.product).in_(
                [(g.valid_until, g.pack_pk, g.product) for g in found]
            )
            rows = session.execute(
                license_rows(customer_id).where(*wanted, in_page).order_by(License.id)
            ).all()
        orders, pos = numbers_by_license(session, [r.id for r in rows])
    members: dict[tuple, list] = defaultdict(list)
    for row in rows:
        members[(row.valid_until, row.pack_pk, row.product)].append(row)
    items = []
    for group in found:
        valid_until, pack, product, pack_pk = group
        these = members[(valid_until, pack_pk, product)]
        active = valid_until >= today
        teams = {m.team_id for m in these}
        items.append(
            views.RENEWABLE.dump(
                {
                    "product": product,
                    "subscription_pack": pack,
                    "team_id": teams.pop() if len(teams) == 1 else None,
                    "valid_until": valid_until,
                    "status": "active" if active else "expired",
                    "quantity": len(these),
                    "license_ids": [m.license_id for m in these],
                    "order_numbers": sorted({o for m in these for o in orders[m.id]}),
                    "po_numbers": sorted({p for m in these for p in pos[m.id]}),
                    "allowed_actions": allowed_actions(product, active),
                }
            )
        )
    return {"items": items, "next_cursor": next_cursor}


# -- licensing report ----------------------------------------------------------------------------

# Rows fetched from the server-side cursor at a time, and written out per chunk of the response.
REPORT_BATCH = 2000


def report_line(row, today: dt.date) -> list[str]:
    return [
        views.report_cell(v)
        for v in (
            row.license_id,
            row.product,
            row.team_name,
            row.team_id,
            row.pack_number,
            row.assignee_first_name,
            row.assignee_last_name,
            row.assignee_email,
            row.valid_from.isoformat(),
            row.valid_until.isoformat(),
            status_of(row, today),
            row.fallback_version,
        )
    ]


@bp.get("/customers/<customer_id>/licensing-report")
def licensing_report(customer_id: str):
    acting_on(customer_id)
    today = ctx().today()
    service = current_service()

    def generate():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(views.REPORT_COLUMNS)
        yield out.getvalue()
        with service.sessions() as session:
            result = session.execute(
                license_rows(customer_id).order_by(License.id),
                execution_options={"yield_per": REPORT_BATCH, "stream_results": True},
            )
            for batch in result.partitions():
                out.seek(0)
                out.truncate()
                writer.writerows(report_line(row, today) for row in batch)
                yield out.getvalue()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="licensing-report-{customer_id}.csv"'
        },
    )
