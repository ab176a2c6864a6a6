"""The grouped lists of a customer account (active users, subscription packs, renewals) and its
licensing report's rows, grouped and paged in SQL.

Each list pages with a keyset cursor over its group key (a person's email, a pack's number, a
renewal's end date, pack and product): one query finds the page's groups after the cursor, a
second reads only those groups' licenses (plain rows, not ORM objects). A page costs the same in
an account of fifty thousand licenses as in one of fifty, and a group added or removed between two
pages neither repeats nor skips another one. The report's rows are read from a server-side cursor
(``report_batches``): memory stays flat however big the account.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict

from sqlalchemy import exists, false, select, true, tuple_
from sqlalchemy.orm import Session

from license_assign import accounts, renewals, views
from license_assign.models import License, LicenseOrder, OrderRecord, SubscriptionPack, Team
from portal_runtime.errors import Invalid
from portal_runtime.identity import Identity
from portal_runtime.queries import equals_ci

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

# Rows fetched from the server-side cursor at a time, and written out per chunk of the report.
REPORT_BATCH = 2000

BAD_CURSOR = "Not a cursor this list gave out."


def license_rows(customer_id: str):
    """The account's live licenses with their team and pack, as rows (``LICENSE_COLUMNS``)."""
    return (
        select(*LICENSE_COLUMNS)
        .join(Team, Team.id == License.team_pk)
        .join(SubscriptionPack, SubscriptionPack.id == License.pack_pk)
        .where(License.customer_id == customer_id, License.removed_at.is_(None))
    )


def plain(session: Session, query):
    """Run a select of columns as Core does: thousands of rows of a page come back as plain
    rows without passing through the ORM's loading (a quarter of a page's time)."""
    return session.connection().execute(query)


def status_of(row, today: dt.date) -> str:
    return License.status(row, today)  # the same rule, read from the row's columns


# -- cursors: the last group key of a page, opaque to the caller ---------------------------------


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
    except ValueError:
        raise Invalid("cursor", BAD_CURSOR)


def page_of_keys(keys: list, limit: int, key_text) -> tuple[list, str | None]:
    """The first ``limit`` of ``limit + 1`` keys read, and the cursor after them (if more)."""
    if len(keys) > limit:
        return keys[:limit], encode_cursor(key_text(keys[limit - 1]))
    return keys, None


# -- which orders the caller sees ----------------------------------------------------------------


def visible_orders(identity: Identity):
    """Which orders' numbers (order and PO) the caller may see and search by on an account it
    may act on: a reseller only those its own reseller placed (not other resellers' nor the
    customer's own, nor orders recorded before the placing reseller was kept); the account's
    customer admin (or a service) all of them."""
    if identity.is_reseller:
        if not identity.reseller_id:
            return false()
        return OrderRecord.reseller_id == identity.reseller_id
    return true()


def license_orders(identity: Identity):
    """License-order links the caller may see (:func:`visible_orders`)."""
    return (
        select(LicenseOrder.license_pk)
        .join(OrderRecord, OrderRecord.order_number == LicenseOrder.order_number)
        .where(visible_orders(identity))
    )


def numbers_by_group(session: Session, identity: Identity, customer_id: str, *where):
    """Visible order numbers and PO numbers of each subscription group (end date, pack pk,
    product) of the account's live licenses that ``where`` picks (the page's own condition, so
    no list of ids goes back to the database): ``{(valid_until, pack_pk, product): (orders,
    pos)}``, two sets each. The database returns each group's distinct numbers, not a row per
    license (a page of packs holds thousands of licenses and a few orders)."""
    groups: dict[tuple, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    query = (
        select(
            License.valid_until,
            License.pack_pk,
            License.product,
            LicenseOrder.order_number,
            LicenseOrder.po_number,
        )
        .join(LicenseOrder, LicenseOrder.license_pk == License.id)
        .join(OrderRecord, OrderRecord.order_number == LicenseOrder.order_number)
        .join(SubscriptionPack, SubscriptionPack.id == License.pack_pk)
        .where(
            License.customer_id == customer_id,
            License.removed_at.is_(None),
            visible_orders(identity),
            *where,
        )
        .distinct()
    )
    for valid_until, pack_pk, product, number, po in plain(session, query):
        orders, pos = groups[(valid_until, pack_pk, product)]
        orders.add(number)
        if po is not None:
            pos.add(po)
    return groups


# -- active users --------------------------------------------------------------------------------


def users(
    session: Session,
    customer_id: str,
    email: str | None,
    today: dt.date,
    limit: int,
    cursor: str | None,
) -> dict:
    held = [
        License.customer_id == customer_id,
        License.removed_at.is_(None),
        License.assignee_email.is_not(None),
    ]
    if email:
        held.append(equals_ci(License.assignee_email, email))
    people = select(License.assignee_email).where(*held)
    if cursor:
        people = people.where(License.assignee_email > decode_cursor(cursor))
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
            license_rows(customer_id).where(License.assignee_email.in_(emails)).order_by(License.id)
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
    items = [views.USER.dump(found[e]) for e in emails if e in found]
    return {"items": items, "next_cursor": next_cursor}


# -- subscription packs --------------------------------------------------------------------------


def packs(
    session: Session, identity: Identity, customer_id: str, limit: int, cursor: str | None
) -> dict:
    live = exists().where(License.pack_pk == SubscriptionPack.id, License.removed_at.is_(None))
    query = select(SubscriptionPack.id, SubscriptionPack.number).where(
        SubscriptionPack.customer_id == customer_id, live
    )
    if cursor:
        query = query.where(SubscriptionPack.number > decode_cursor(cursor))
    accounts.require_customer(session, customer_id)
    found = session.execute(query.order_by(SubscriptionPack.number).limit(limit + 1)).all()
    found, next_cursor = page_of_keys(found, limit, lambda p: p.number)
    in_page = License.pack_pk.in_([p.id for p in found])
    rows = (
        plain(session, license_rows(customer_id).where(in_page).order_by(License.id)).all()
        if found
        else []
    )
    numbers = numbers_by_group(session, identity, customer_id, in_page) if rows else {}
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
                    "order_numbers": sorted(numbers.get((valid_until, pack.id, product), ((),))[0]),
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


def renewal_cursor(cursor: str) -> tuple[dt.date, str, str]:
    try:
        return renewals.parse_renewal_key(decode_cursor(cursor))
    except ValueError:
        raise Invalid("cursor", BAD_CURSOR)


def renewable(
    session: Session,
    identity: Identity,
    customer_id: str,
    args: dict,
    today: dt.date,
    limit: int,
    cursor: str | None,
) -> dict:
    """The account's licenses in renewable groups, filtered by ``RenewalSearchArgs``."""
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
            visible = license_orders(identity).where(equals_ci(column, args[field]))
            wanted.append(License.id.in_(visible))
    key = (License.valid_until, SubscriptionPack.number, License.product)
    groups = (
        select(*key, License.pack_pk)
        .join(SubscriptionPack, SubscriptionPack.id == License.pack_pk)
        .where(*wanted)
    )
    if cursor:
        after = renewal_cursor(cursor)
        # The end date alone is the licenses' own column: it lets the scan start at the cursor
        # (the whole key, pack number included, is compared only on the rows from there).
        groups = groups.where(License.valid_until >= after[0], tuple_(*key) > tuple_(*after))
    found = session.execute(
        groups.group_by(*key, License.pack_pk).order_by(*key).limit(limit + 1)
    ).all()
    found, next_cursor = page_of_keys(found, limit, lambda g: renewals.renewal_key(*g[:3]))
    rows, numbers = [], {}
    if found:
        # The packs' own index finds the page's packs' licenses; the page's groups are picked
        # from them here. (A list of (end date, pack, product) tuples in the SQL made PostgreSQL
        # expect one row and join the packs by a nested loop: 40 ms a page instead of 4.)
        in_page = License.pack_pk.in_(sorted({g.pack_pk for g in found}))
        groups_in_page = {(g.valid_until, g.pack_pk, g.product) for g in found}
        rows = [
            row
            for row in plain(
                session, license_rows(customer_id).where(*wanted, in_page).order_by(License.id)
            )
            if (row.valid_until, row.pack_pk, row.product) in groups_in_page
        ]
        numbers = numbers_by_group(session, identity, customer_id, *wanted, in_page)
    groups = renewals.renewal_groups(found, rows, numbers, today)
    return {"items": [views.RENEWABLE.dump(g) for g in groups], "next_cursor": next_cursor}


# -- licensing report ----------------------------------------------------------------------------


def report_batches(session: Session, customer_id: str):
    """The account's licenses as report rows, in batches read from a server-side cursor."""
    result = session.execute(
        license_rows(customer_id).order_by(License.id),
        execution_options={"yield_per": REPORT_BATCH, "stream_results": True},
    )
    yield from result.partitions()
