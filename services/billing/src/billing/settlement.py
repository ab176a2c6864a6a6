"""Settling payment attempts left ``pending``: the provider is asked by idempotency key.

An attempt without the provider's answer (a crash between the provider call and the commit) is
settled from what the provider did under its key: a capture pays its invoice (or goes back, if
the invoice no longer takes it), a key the provider never received is ``abandoned``. Paying an
invoice again settles its earlier attempts first; the ``settle-unknown-payments`` job settles
the rest (``billing.jobs``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from billing import attempts, events
from billing.config import BillingConfig
from billing.models import Invoice, InvoiceStatus, Payment
from billing.ports import PaymentProvider
from portal_runtime import logs
from portal_runtime.clock import Clock
from portal_runtime.db import is_sqlite
from portal_runtime.errors import Conflict
from portal_runtime.uow import UnitOfWork

log = logs.get("billing")


def settle_earlier_attempts(
    uow: UnitOfWork,
    payments: PaymentProvider,
    config: BillingConfig,
    clock: Clock,
    invoice: Invoice,
) -> bool:
    """Ask the provider about this invoice's attempts still unknown, before trying again.

    One younger than ``payment_settle_after_seconds`` may still be on its way: a second charge
    now could take the money twice, so the caller is asked to wait (a 409).
    """
    pending = list(
        uow.session.scalars(
            select(Payment).where(Payment.invoice_id == invoice.id, Payment.status == "pending")
        )
    )
    cutoff = clock.now() - dt.timedelta(seconds=config.payment_settle_after_seconds)
    if any(attempt.created_at > cutoff for attempt in pending):
        raise Conflict(
            "A payment of this invoice is still waiting for the provider's answer; "
            "try again in a few minutes."
        )
    for attempt in pending:
        settle_attempt(uow, payments, clock, attempt)
    return bool(pending)


def settle_attempt(uow: UnitOfWork, payments: PaymentProvider, clock: Clock, attempt: Payment):
    """Settle one attempt left pending, from what the provider did under its key."""
    found = payments.find_charge(attempt.idempotency_key)
    if found is None:
        # The provider never received it: nothing was charged. A redelivered order tries again.
        attempt.status, attempt.reason = "abandoned", "not_received_by_provider"
        log.warning("payment.abandoned", idempotency_key=attempt.idempotency_key)
        return
    attempts.record(attempt, found)
    log.warning(
        "payment.settled",
        idempotency_key=attempt.idempotency_key,
        status=attempt.status,
        order_number=attempt.order_number,
    )
    if not found.approved or attempt.invoice_id is None:
        # Not yet invoiced: the order's event, delivered again, issues the invoice as paid.
        return
    invoice = uow.session.get(Invoice, attempt.invoice_id)
    if not is_sqlite(uow.session.get_bind()):
        uow.session.refresh(invoice, with_for_update=True)
    apply_capture(uow, payments, clock, invoice, attempt)


def apply_capture(
    uow: UnitOfWork, payments: PaymentProvider, clock: Clock, invoice: Invoice, attempt: Payment
) -> None:
    """A captured attempt pays its invoice; if the invoice no longer takes it, it goes back."""
    now = clock.now()
    if invoice.status != InvoiceStatus.not_paid:
        # Paid otherwise or credited meanwhile: keep nothing that is not owed.
        key = f"refund:{attempt.idempotency_key}"
        reference = payments.refund(
            attempt.provider_reference or "", attempt.amount, attempt.currency, key
        )
        uow.session.add(
            Payment(
                invoice_id=invoice.id,
                order_number=invoice.order_number,
                idempotency_key=key,
                method_id=attempt.method_id,
                method_kind=attempt.method_kind,
                amount=attempt.amount,
                currency=attempt.currency,
                status="refunded",
                provider_reference=reference,
                created_at=now,
            )
        )
        log.warning("payment.refunded_unowed", invoice_number=invoice.number, status=invoice.status)
        return
    invoice.mark_paid(now, attempt.method_id)
    uow.record("billing.payment.captured", events.payment_captured(invoice, attempt.method_kind))
    log.info("invoice.paid", invoice_number=invoice.number, order_number=invoice.order_number)
