"""Payment attempts: no charge without a durable record of it.

Every call that may move money at the provider goes through :func:`charge`:

1. the attempt (its provider idempotency key, amount, method) is committed as ``pending`` in a
   transaction of its own, *before* the provider hears of it;
2. the provider is called with that key (it never charges twice for one key);
3. the outcome (``captured`` / ``declined``, the provider's reference) is written in the
   caller's unit of work, together with the invoice it pays.

A crash or a failed commit between 2 and 3 leaves the attempt ``pending``. Nothing is lost: a
redelivered event calls the provider again with the same key and gets the first answer, and the
``settle-unknown-payments`` job (``billing.jobs``, ``billing.settlement``) asks the provider by key
about attempts left pending too long, as Kill Bill's janitor does.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from billing.models import Payment, PaymentMethod
from billing.ports import ChargeResult, PaymentProvider
from portal_runtime import logs
from portal_runtime.uow import UnitOfWork

log = logs.get("billing")

# The provider has answered: the attempt's outcome is known for good.
FINAL = ("captured", "declined")
# ``abandoned``: the reconciliation job asked and the provider never received the key.
RETRYABLE = ("pending", "abandoned")

UNAVAILABLE = ChargeResult(approved=False, reference="", reason="payment_method_unavailable")


# Built once: its construction and cache key cost more than the look-up's round trip.
BY_KEY = select(Payment).where(Payment.idempotency_key == bindparam("key"))


def by_key(uow: UnitOfWork, key: str) -> Payment | None:
    return uow.session.scalar(BY_KEY, {"key": key})


def result_of(attempt: Payment) -> ChargeResult:
    return ChargeResult(
        approved=attempt.status == "captured",
        reference=attempt.provider_reference or "",
        reason=attempt.reason,
    )


def record(attempt: Payment, result: ChargeResult) -> None:
    """Write what the provider answered onto the attempt (in the caller's transaction)."""
    attempt.status = "captured" if result.approved else "declined"
    attempt.reason = result.reason
    attempt.provider_reference = result.reference or None


def commit_pending(uow: UnitOfWork, attempt: Payment) -> Payment:
    """Make the attempt durable now, in a transaction holding nothing else.

    Returns the stored attempt: this one, or the one a competing worker stored first.
    """
    session = uow.session
    if any(obj is not attempt for obj in (*session.new, *session.dirty, *session.deleted)):
        # Committing here would commit the caller's half-done work with the attempt.
        raise RuntimeError("a payment attempt must be recorded before anything else is changed")
    if attempt not in session:
        session.add(attempt)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        stored = by_key(uow, attempt.idempotency_key)
        if stored is None:
            raise
        return stored
    return attempt


def charge(
    uow: UnitOfWork,
    provider: PaymentProvider,
    *,
    key: str,
    method: PaymentMethod | None,
    method_kind: str,
    amount: Decimal,
    currency: str,
    now,
    invoice_id: int | None = None,
    order_number: str | None = None,
) -> tuple[Payment, ChargeResult]:
    """Charge ``amount`` once for ``key``: the attempt is on record before the provider call.

    The outcome is on the returned attempt, uncommitted: the caller commits it with its own
    changes (the invoice). Calling again with the same key never charges twice.
    """
    attempt = by_key(uow, key)
    if attempt is not None and attempt.status in FINAL:
        return attempt, result_of(attempt)
    if method is None or not method.provider_token:
        # Nothing can be charged now; if an earlier try reached the provider, that answer counts.
        found = provider.find_charge(key) if attempt is not None else None
        result = found or UNAVAILABLE
        if attempt is None:
            attempt = Payment(
                idempotency_key=key,
                invoice_id=invoice_id,
                order_number=order_number,
                method_id=method.id if method else None,
                method_kind=method_kind,
                amount=amount,
                currency=currency,
                status="pending",
                created_at=now,
            )
            uow.session.add(attempt)
        record(attempt, result)
        return attempt, result
    if attempt is None:
        attempt = commit_pending(
            uow,
            Payment(
                idempotency_key=key,
                invoice_id=invoice_id,
                order_number=order_number,
                method_id=method.id,
                method_kind=method.kind,
                amount=amount,
                currency=currency,
                status="pending",
                created_at=now,
            ),
        )
        if attempt.status in FINAL:
            return attempt, result_of(attempt)
    elif attempt.status == "abandoned":
        attempt.status = "pending"
        attempt = commit_pending(uow, attempt)
    log.info("payment.attempt", idempotency_key=key, method_kind=method.kind)
    result = provider.charge(method.kind, method.provider_token, amount, currency, key)
    record(attempt, result)
    return attempt, result
