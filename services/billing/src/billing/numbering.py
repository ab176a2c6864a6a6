"""Gapless numbers per seller and year: ``INV-PS-2026-000001``, ``CN-PS-2026-000001``.

The owner's counter row is created if missing, then locked (``SELECT … FOR UPDATE``) and advanced
in the transaction that inserts the numbered document. A rollback returns the number; a competing
worker waits for the lock and then sees what the first one committed. On SQLite the write lock
taken at ``BEGIN IMMEDIATE`` gives the same order.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from billing.models import NumberSeries


def lock_series(session: Session, series: str, owner: str) -> NumberSeries:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(NumberSeries)
        .values(series=series, owner=owner, last_value=0)
        .on_conflict_do_nothing(index_elements=["series", "owner"])
    )
    return session.execute(
        select(NumberSeries)
        .where(NumberSeries.series == series, NumberSeries.owner == owner)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


# The first key of the advisory locks billing takes per order (the second is the number's hash).
ORDER_LOCK = 0x42494C4C  # "BILL"


def lock_order(session: Session, order_number: str) -> None:
    """Hold ``order_number`` until this transaction ends: issuing its invoice and handling its
    cancellation take this lock before they look for each other's rows, so one of them always
    sees what the other committed. A PostgreSQL advisory lock; on SQLite a transaction that
    writes holds the database's one write lock already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(ORDER_LOCK, func.hashtext(order_number))))


def series_owner(seller_code: str, day: dt.date) -> str:
    """The counter a document issued on ``day`` by this seller is numbered in."""
    return f"{seller_code}-{day.year}"


def take_next(counter: NumberSeries) -> str:
    """The next number of a series locked with :func:`lock_series`."""
    counter.last_value += 1
    return f"{counter.series}-{counter.owner}-{counter.last_value:06d}"
