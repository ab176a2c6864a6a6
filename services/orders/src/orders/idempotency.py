"""``Idempotency-Key``: the same key and body get the same answer; another body is refused.

Keys are scoped to the caller's tenant (a reseller, or a customer buying for itself), so two
resellers using the same key each get their own order. The key row is inserted in the same
transaction as the order: of two concurrent requests with one key, one commits and the other hits
the primary key, rolls back, and answers with what the first stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import delete
from sqlalchemy.orm import Session

from orders.models import IdempotencyKey
from portal_runtime.problems import Problem

MAX_KEY_LENGTH = 200
# The API promises a key is remembered at least this long.
MIN_HOURS = 24


def request_hash(route: str, body: object) -> str:
    canonical = json.dumps(
        {"route": route, "body": body}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    """The request's Idempotency-Key. Placing an order needs one: without it a client retrying
    after a timeout could not tell a lost answer from a lost request, and would pay twice."""
    if key is None:
        raise Problem(
            422,
            "An Idempotency-Key header is required to place an order; send the same key when "
            "retrying and the same order comes back.",
            errors={"Idempotency-Key": ["Missing."]},
        )
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise Problem(
            422,
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
            errors={"Idempotency-Key": ["Invalid length."]},
        )
    return key


def replay(session: Session, scope: str, key: str, digest: str) -> IdempotencyKey | None:
    """The stored answer for this key, None if unused; 422 if the key came with another body."""
    row = session.get(IdempotencyKey, (scope, key))
    if row is None:
        return None
    if row.request_hash != digest:
        raise Problem(
            422,
            "This Idempotency-Key was already used with a different request.",
            title="Idempotency-Key reused",
            errors={"Idempotency-Key": ["Used before with another body."]},
        )
    return row


def forget_older_than(session: Session, hours: int, now: dt.datetime) -> int:
    """Delete keys older than ``hours`` (never less than the 24 the API promises)."""
    cutoff = now - dt.timedelta(hours=max(hours, MIN_HOURS))
    return session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
    ).rowcount


def forget_expired_keys(service) -> int:
    """The periodic job: forget keys past ``idempotency_hours``; returns how many."""
    with service.sessions() as session, session.begin():
        return forget_older_than(session, service.config.idempotency_hours, service.clock.now())
