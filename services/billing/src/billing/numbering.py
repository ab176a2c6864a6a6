"""Gapless numbers per seller and year: ``INV-PS-2026-000001``, ``CN-PS-2026-000001``.

The owner's counter row is created at 1 or advanced by one statement (an upsert), which also
locks the row until the transaction that inserts the numbered document ends. A rollback returns
the number; a competing worker's upsert waits for the lock and then advances what the first one
committed. On SQLite the write lock taken at ``BEGIN IMMEDIATE`` gives the same order.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.orm import Session

from billing.models import NumberSeries
from portal_runtime.db import PerDialect

COUNTERS = NumberSeries.__table__


def _advance(insert):
    return (
        insert(COUNTERS)
        .values(series=bindparam("series"), owner=bindparam("owner"), last_value=1)
        .on_conflict_do_update(
            index_elements=["series", "owner"],
            set_={"last_value": COUNTERS.c.last_value + 1},
        )
        .returning(COUNTERS.c.last_value)
    )


ADVANCE = PerDialect(_advance)


def take_next(session: Session, series: str, owner: str) -> str:
    """Allocate the next number of ``series`` for ``owner``; its counter stays locked until the
    transaction ends, so call it only once the document will be inserted (a number taken and
    committed without its document would be a gap).

    One round trip (the counter created or advanced, and read back) instead of an insert, a
    ``SELECT … FOR UPDATE`` and an update; Core, as the counter is never needed as an object."""
    value = session.execute(
        ADVANCE(session.get_bind()), {"series": series, "owner": owner}
    ).scalar_one()
    return f"{series}-{owner}-{value:06d}"


# The first key of the advisory locks billing takes per order (the second is the number's hash).
ORDER_LOCK = 0x42494C4C  # "BILL"
LOCK_ORDER = select(
    func.pg_advisory_xact_lock(ORDER_LOCK, func.hashtext(bindparam("order_number", type_=String)))
)


def lock_order(session: Session, order_number: str) -> None:
    """Hold ``order_number`` until this transaction ends: issuing its invoice and handling its
    cancellation take this lock before they look for each other's rows, so one of them always
    sees what the other committed. A PostgreSQL advisory lock; on SQLite a transaction that
    writes holds the database's one write lock already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(LOCK_ORDER, {"order_number": order_number})


def series_owner(seller_code: str, day: dt.date) -> str:
    """The counter a document issued on ``day`` by this seller is numbered in."""
    return f"{seller_code}-{day.year}"
