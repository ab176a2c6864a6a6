"""``Idempotency-Key``: the same key and body get the same answer; another body is refused.

Keys are scoped to the caller's tenant (a reseller, or a customer buying for itself), so two
resellers using the same key each get their own order. The key row is inserted in the same
transaction as the order: of two concurrent requests with one key, one commits and the other hits
the primary key, rolls back, and answers with what the first stored (``handlers.place_order``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from orders.models import IdempotencyKey
from portal_runtime.errors import Invalid

MAX_KEY_LENGTH = 200
# The API promises a key is remembered at least this long.
MIN_HOURS = 24


class KeyReused(Invalid):
    title = "Idempotency-Key reused"


@dataclass(frozen=True)
class Claim:
    """One request's key in its caller's scope, with the hash of what it asked."""

    scope: str
    key: str
    digest: str

    def answer(self, order_number: str, response: dict, now: dt.datetime) -> IdempotencyKey:
        """The row that remembers the answer (201 and its body) for a replay."""
        return IdempotencyKey(
            scope=self.scope,
            key=self.key,
            request_hash=self.digest,
            order_number=order_number,
            status_code=201,
            response=response,
            created_at=now,
        )


def request_hash(route: str, body: object) -> str:
    canonical = json.dumps(
        {"route": route, "body": body}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(scope: str, key: str | None, route: str, body: object) -> Claim:
    """The request's Idempotency-Key. Placing an order needs one: without it a client retrying
    after a timeout could not tell a lost answer from a lost request, and would pay twice.

    The route is part of the request: one key for two carts is "another body"."""
    if key is None:
        raise Invalid(
            "Idempotency-Key",
            "Missing.",
            detail="An Idempotency-Key header is required to place an order; send the same key "
            "when retrying and the same order comes back.",
        )
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise Invalid(
            "Idempotency-Key",
            "Invalid length.",
            detail=f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
        )
    return Claim(scope, key, request_hash(route, body))


KEYS = IdempotencyKey.__table__
# Every placed order looks its key up first: built once, and plain columns, not an object.
STORED = select(KEYS.c.request_hash, KEYS.c.status_code, KEYS.c.response).where(
    KEYS.c.scope == bindparam("scope"), KEYS.c.key == bindparam("key")
)


def replay(session, claim: Claim):
    """The stored answer for this key (``request_hash``, ``status_code``, ``response``), None
    if unused; 422 if the key came with another body. ``session``: a session or a connection."""
    row = session.execute(STORED, {"scope": claim.scope, "key": claim.key}).first()
    if row is None:
        return None
    if row.request_hash != claim.digest:
        raise KeyReused(
            "Idempotency-Key",
            "Used before with another body.",
            detail="This Idempotency-Key was already used with a different request.",
        )
    return row


def forget_older_than(session: Session, hours: int, now: dt.datetime) -> int:
    """Delete keys older than ``hours`` (never less than the 24 the API promises)."""
    cutoff = now - dt.timedelta(hours=max(hours, MIN_HOURS))
    return session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
    ).rowcount
