"""Read-side helpers for search routes: partial matches, day ranges and cursor pagination.

Lists take ``limit`` (default 50, at most 100) and an opaque ``cursor``: search results come
newest first; an account's own short lists (teams, links) oldest first; lists built by grouping
rows (people, packs) page over their sorted keys.
"""

from __future__ import annotations

import base64
import datetime as dt

from sqlalchemy import Select, func
from sqlalchemy.orm import Session

from portal_runtime.errors import Invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def parse_limit(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("limit", "Not a valid integer.")
    if not 1 <= value <= MAX_LIMIT:
        raise Invalid("limit", f"Must be between 1 and {MAX_LIMIT}.")
    return value


def _decode_text(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
    except ValueError:  # binascii.Error and UnicodeDecodeError are both ValueErrors
        raise Invalid("cursor", "Not a cursor this list gave out.")


def _decode(cursor: str) -> int:
    try:
        return int(_decode_text(cursor))
    except ValueError:
        raise Invalid("cursor", "Not a cursor this list gave out.")


def _encode(key) -> str:
    return base64.urlsafe_b64encode(str(key).encode()).rstrip(b"=").decode()


def page(
    session: Session,
    query: Select,
    key_column,
    limit_raw: str | None,
    cursor: str | None,
    *,
    oldest_first: bool = False,
    keys_first: bool = False,
) -> tuple[list, str | None]:
    """Rows by ``key_column`` (an integer key), newest first unless ``oldest_first``, and the
    cursor of the next page.

    ``keys_first`` (searches over a long history): one statement whose inner query picks the
    page's keys alone. Where an index holds the tenant, the key and the searched columns
    (``INCLUDE``), that is an index-only scan that stops at the page, however common the
    searched text; the outer query reads those rows only."""
    limit = parse_limit(limit_raw)
    if cursor:
        after = _decode(cursor)
        query = query.where(key_column > after if oldest_first else key_column < after)
    order = key_column.asc() if oldest_first else key_column.desc()
    query = query.order_by(order).limit(limit + 1)
    if keys_first:
        query = query.where(key_column.in_(query.with_only_columns(key_column)))
    rows = list(session.scalars(query))
    next_cursor = _encode(getattr(rows[limit - 1], key_column.key)) if len(rows) > limit else None
    return rows[:limit], next_cursor


def page_items(
    items: list[dict], key: str, limit_raw: str | None, cursor: str | None
) -> tuple[list[dict], str | None]:
    """One page of a list already built and sorted by the unique text field ``key``."""
    limit = parse_limit(limit_raw)
    if cursor:
        after = _decode_text(cursor)
        items = [item for item in items if str(item[key]) > after]
    next_cursor = _encode(items[limit - 1][key]) if len(items) > limit else None
    return items[:limit], next_cursor


def contains(column, text: str):
    """Case-insensitive partial match, with the user's ``%`` and ``_`` taken literally."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped.lower()}%", escape="\\")


def equals_ci(column, text: str):
    """Case-insensitive equality (emails)."""
    return func.lower(column) == text.strip().lower()


def on_days(query: Select, column, first: dt.date | None, last: dt.date | None) -> Select:
    """Rows whose instant ``column`` falls on the days ``first`` to ``last`` (both included,
    whole days in UTC; either may be open), compared on the stored instant so an index on it
    serves the range."""
    if first:
        query = query.where(column >= dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC))
    if last:
        after = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        query = query.where(column < after)
    return query
