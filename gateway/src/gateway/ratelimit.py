"""Rate limits counted in the gateway's database, so every gunicorn worker sees the same count.

A limit is "at most ``limit`` counted attempts under a key within ``window`` seconds". Over the
limit answers ``429`` with ``Retry-After``: the seconds until the oldest counted attempt leaves the
window.

An attempt is counted *before* the slow work it guards (a password hash, a lookup in another
service) with :func:`reserve`, which checks and counts in one transaction serialised per key, so
concurrent requests cannot all pass the check before any of them is counted. Where only failures
should count, the caller releases the reservation (:func:`release`) when the attempt succeeds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from gateway.models import Attempt
from portal_runtime.problems import Problem

SWEEP_PROBABILITY = 0.01


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Backoff:
    """Growing delays rather than a lockout: the first ``free`` failures under ``key`` within
    ``window_seconds`` cost nothing; after that each attempt must wait ``base_seconds`` after the
    latest failure, doubled for every further failure, at most ``cap_seconds``."""

    key: str
    free: int
    window_seconds: int
    base_seconds: float = 1.0
    cap_seconds: int = 900

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(float(self.cap_seconds), self.base_seconds * 2 ** (failures - self.free))


def failures(session: Session, key: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    count, latest = session.execute(
        select(func.count(Attempt.id), func.max(Attempt.at)).where(
            Attempt.key == key, Attempt.at > since
        )
    ).one()
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=dt.UTC)
    return count, latest


def backoff_wait(session: Session, backoff: Backoff, now: dt.datetime) -> int | None:
    """Seconds this attempt must still wait under ``backoff``, else None."""
    since = now - dt.timedelta(seconds=backoff.window_seconds)
    count, latest = failures(session, backoff.key, since)
    delay = backoff.delay(count)
    if not delay or latest is None:
        return None
    remaining = (latest + dt.timedelta(seconds=delay) - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else None


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


def _forget_old(session: Session, limits: list[Limit], now: dt.datetime) -> None:
    # Keep the table small: a key's attempts older than its window count for nothing.
    for limit in limits:
        since = now - dt.timedelta(seconds=limit.window_seconds)
        session.execute(delete(Attempt).where(Attempt.key == limit.key, Attempt.at <= since))
    # Now and then, also forget keys nobody has hit for a day (no window is that long).
    if random.random() < SWEEP_PROBABILITY:
        session.execute(delete(Attempt).where(Attempt.at <= now - dt.timedelta(days=1)))


def _lock_keys(session: Session, limits: list[Limit]) -> None:
    """Serialise check-and-count per key until the transaction ends. PostgreSQL takes an
    advisory lock per key; SQLite transactions here begin IMMEDIATE, one writer at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted({limit.key for limit in limits}):
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        lock_id = int.from_bytes(digest, "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def reserve(
    session: Session,
    limits: list[Limit],
    now: dt.datetime,
    detail: str,
    backoffs: tuple[Backoff, ...] = (),
) -> list[int]:
    """Check ``limits`` and ``backoffs`` (429 when any is used up or still waiting) and count
    this attempt under each, atomically; the ids of the counted attempts (limits first), for
    :func:`release`. The caller commits."""
    _lock_keys(session, [*limits, *backoffs])
    waits = [w for w in (backoff_wait(session, b, now) for b in backoffs) if w is not None]
    if waits:
        raise too_many(max(waits), detail)
    check(session, limits, now, detail)
    limits = [*limits, *backoffs]
    attempts = [Attempt(key=limit.key, at=now) for limit in limits]
    session.add_all(attempts)
    _forget_old(session, limits, now)
    session.flush()
    return [attempt.id for attempt in attempts]


def first_in_window(session: Session, key: str, window_seconds: int, now: dt.datetime) -> bool:
    """Count one occurrence under ``key`` unless one is counted within the window already (one
    e-mail per episode, say); True when this is the first. The caller commits."""
    limit = Limit(key, 1, window_seconds)
    _lock_keys(session, [limit])
    if retry_after(session, limit, now) is not None:
        return False
    session.add(Attempt(key=key, at=now))
    _forget_old(session, [limit], now)
    return True


def release(session: Session, attempt_ids: list[int]) -> None:
    """Uncount reserved attempts (the attempt succeeded, and only failures count)."""
    if attempt_ids:
        session.execute(delete(Attempt).where(Attempt.id.in_(attempt_ids)))


def clear(session: Session, key: str) -> None:
    session.execute(delete(Attempt).where(Attempt.key == key))
