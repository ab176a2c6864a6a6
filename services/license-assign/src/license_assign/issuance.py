"""Issuing the seats of a ``new`` order line as one set: a few statements per line, whatever its
quantity (10,000 seats are a handful of multi-row inserts, not a query per seat).

Every seat of a line has the same product, dates, team and pack, so its fallback version is
worked out once; the new license ids are drawn at random, and the licenses and their order links
go in with multi-row inserts. An id that is taken already (one chance in 10^12 a seat) is skipped
by the insert itself (``ON CONFLICT DO NOTHING``) and drawn again, so a line of a few seats costs
no look-up first; the ``COPY`` of a big line, which cannot skip, checks its ids in chunks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.orm import Session

from license_assign import accounts
from license_assign.fallback import refresh_fallback
from license_assign.models import Customer, License, LicenseOrder, SubscriptionPack, Team
from portal_runtime import logs
from portal_runtime.db import PerDialect, utcnow

log = logs.get("license_assign.handlers")

# Rows per multi-row INSERT / ids per IN (...) check: well under every driver's parameter cap.
CHUNK = 1000
# Seats from which PostgreSQL gets them by COPY: below, two multi-row inserts are fewer round
# trips than drawing the keys and two COPYs (most lines have a few seats).
COPY_FROM = 50


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def line_team(session: Session, customer: Customer, line: dict) -> Team:
    """Where a line's seats go: the team it names if it is the account's, else the team of its
    ``team_name`` (created if new), else the default team."""
    if line.get("team_id"):
        team = accounts.find_team(session, customer.id, line["team_id"])
        if team is not None:
            return team
        log.warning("order.unknown_team", team_id=line["team_id"], customer_id=customer.id)
    if line.get("team_name"):
        return accounts.team_named(session, customer.id, line["team_name"].strip())
    return accounts.default_team(session, customer.id)


def line_pack(session: Session, customer: Customer, line: dict) -> SubscriptionPack:
    """The pack a line names if it is the account's; otherwise a new pack."""
    if line.get("subscription_pack"):
        pack = accounts.pack_of(session, customer.id, line["subscription_pack"])
        if pack is not None:
            return pack
        log.warning("order.unknown_pack", pack=line["subscription_pack"], customer_id=customer.id)
    return accounts.create_pack(session, customer.id)


# Which of some candidate ids are taken, built once (its construction cost more than its trip).
TAKEN_IDS = select(License.license_id).where(
    License.license_id.in_(bindparam("ids", expanding=True))
)


def unused_license_ids(session: Session, count: int) -> list[str]:
    """``count`` fresh license ids, none already in the table and no two alike (for the COPY,
    which cannot skip a taken one)."""
    chosen: list[str] = []
    taken: set[str] = set()
    while len(chosen) < count:
        candidates = []
        while len(candidates) < count - len(chosen):
            candidate = accounts.new_license_id()
            if candidate not in taken:
                taken.add(candidate)
                candidates.append(candidate)
        existing = set()
        for part in chunks(candidates):
            existing.update(session.scalars(TAKEN_IDS, {"ids": part}))
        chosen.extend(c for c in candidates if c not in existing)
    return chosen


# A line's seats and their order links, built once. A seat whose id is taken is not inserted
# and not returned.
_LICENSES = License.__table__
INSERT_LICENSES = PerDialect(
    lambda insert: (
        insert(_LICENSES)
        .on_conflict_do_nothing(index_elements=[_LICENSES.c.license_id])
        .returning(_LICENSES.c.license_id, _LICENSES.c.id)
    )
)
INSERT_LINKS = insert(LicenseOrder.__table__)


def insert_seats(session: Session, count: int, common: dict, link: dict) -> list[str]:
    """Multi-row inserts (SQLite, and a line of few seats on PostgreSQL): batched
    INSERT ... VALUES ... ON CONFLICT DO NOTHING RETURNING, compiled once; the ids of a
    seat the insert skipped are drawn again until every seat is in. The new ids, in seat order."""
    statement = INSERT_LICENSES(session.get_bind())
    pks: dict[str, int] = {}
    ids: list[str] = []
    while len(ids) < count:
        fresh: dict[str, None] = {}  # no two alike, in the order drawn
        while len(fresh) < count - len(ids):
            candidate = accounts.new_license_id()
            if candidate not in pks:
                fresh[candidate] = None
        drawn = list(fresh)
        for part in chunks(drawn):
            rows = [{"license_id": lid, **common} for lid in part]
            pks.update(session.execute(statement, rows).all())
        ids.extend(lid for lid in drawn if lid in pks)
    for part in chunks(ids):
        session.execute(INSERT_LINKS, [{"license_pk": pks[lid], **link} for lid in part])
    return ids


def copy_seats(session: Session, ids: list[str], common: dict, link: dict) -> None:
    """``COPY`` (PostgreSQL), in the session's transaction: keys drawn from the table's sequence
    first, then the licenses and their order links streamed in."""
    keys = session.scalars(
        text(
            "SELECT nextval(pg_get_serial_sequence('licenses', 'id')) FROM generate_series(1, :n)"
        ),
        {"n": len(ids)},
    ).all()
    columns = ["id", "license_id", *common]
    link_columns = ["license_pk", *link]
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY licenses ({', '.join(columns)}) FROM STDIN") as copy:
        for key, lid in zip(keys, ids, strict=True):
            copy.write_row([key, lid, *common.values()])
    with cursor.copy(f"COPY license_orders ({', '.join(link_columns)}) FROM STDIN") as copy:
        for key in keys:
            copy.write_row([key, *link.values()])


def issue_seats(
    session: Session,
    *,
    customer_id: str,
    team: Team,
    pack: SubscriptionPack,
    order_number: str,
    po_number: str | None,
    line: dict,
    today: dt.date,
) -> list[dict]:
    """Insert the line's licenses and their order links; their issued views, in seat order."""
    quantity = line["quantity"]
    if quantity <= 0:
        return []
    # One prototype works out the fallback version every seat of the line shares.
    proto = License(
        product=line["product"],
        valid_from=line["start_date"],
        valid_until=line["end_date"],
        paid_since=line["start_date"],
        # The order says when its cover is under a year: then no fallback for that term.
        no_fallback_until=None if line["fallback_eligible"] else line["end_date"],
    )
    refresh_fallback(session, proto, today)
    now = utcnow()
    common = {
        "customer_id": customer_id,
        "team_pk": team.id,
        "pack_pk": pack.id,
        "product": proto.product,
        "valid_from": proto.valid_from,
        "valid_until": proto.valid_until,
        "paid_since": proto.paid_since,
        "fallback_version": proto.fallback_version,
        "no_fallback_until": proto.no_fallback_until,
        "suspended": False,
        "created_at": now,
    }
    link = {
        "order_number": order_number,
        "line_no": line["line_no"],
        "kind": "new",
        "po_number": po_number,
        "previous_valid_until": None,
        "previous_product": None,
    }
    if session.get_bind().dialect.name == "postgresql" and quantity >= COPY_FROM:
        ids = unused_license_ids(session, quantity)
        copy_seats(session, ids, common, link)
    else:
        ids = insert_seats(session, quantity, common, link)
    status = "expired" if proto.valid_until < today else "available"
    return [
        {
            "license_id": lid,
            "product": proto.product,
            "valid_from": proto.valid_from,
            "valid_until": proto.valid_until,
            "team_id": team.team_id,
            "subscription_pack": pack.number,
            "fallback_version": proto.fallback_version,
            "status": status,
            "assignee": None,
            "activation_code": None,
        }
        for lid in ids
    ]
