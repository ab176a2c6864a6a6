"""Rate limits counted in the gateway's database, so every gunicorn worker sees the same count.

A limit is "at most ``limit`` counted attempts under a key within ``window`` seconds"; what is
counted (every attempt, or only failures) is the caller's choice. Over the limit answers
``429`` with ``Retry-After``: the seconds until the oldest counted attempt leaves the window.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gateway.models import Attempt
from portal_runtime.problems import Problem

SWEEP_PROBABILITY = 0.01


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window_seconds: int


def too_many(retry_after: int, detail: str) -> Problem:
    return Problem(429, detail, headers={"Retry-After": str(max(1, retry_after))})


def retry_after(session: Session, limit: Limit, now: dt.datetime) -> int | None:
    """Seconds to wait when ``limit`` is used up, else None."""
    since = now - dt.timedelta(seconds=limit.window_seconds)
    count, oldest = session.execute(
        select(func.count(Attempt.id), func.min(Attempt.at)).where(
            Attempt.key == limit.key, Attempt.at > since
        )
    ).one()
    if count < limit.limit:
        return None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return math.ceil((oldest - since).total_seconds())


def check(session: Session, limits: list[Limit], now: dt.datetime, detail: str) -> None:
    """Raise 429 when any of ``limits`` is used up (the longest wait wins)."""
    waits = [w for w in (retry_after(session, limit, now) for limit in limits) if w is not None]
    if waits:
        raise too_many(max(waits), detail)


def hit(session: Session, limits: list[Limit], now: dt.datetime) -> None:
    """Count one attempt under each limit's key (the caller commits)."""
    for limit in limits:
        session.add(Attempt(key=limit.key, at=now))
    # Keep the table small: a key's attempts older than its window count for nothing.
    for limit in limits:
        since = now - dt.timedelta(seconds=limit.window_seconds)
        session.execute(delete(Attempt).where(Attempt.key == limit.key, Attempt.at <= since))
    # Now and then, also forget keys nobody has hit for a day (no window is that long).
    if random.random() < SWEEP_PROBABILITY:
        session.execute(delete(Attempt).where(Attempt.at <= now - dt.timedelta(days=1)))


def clear(session: Session, key: str) -> None:
    session.execute(delete(Attempt).where(Attempt.key == key))
