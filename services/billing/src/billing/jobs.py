"""Billing's scheduled jobs: overdue invoices and payments left unknown.

PDFs have no job: each renders on its first download (``billing.documents``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from billing import events, settlement
from billing.config import BillingConfig
from billing.models import Invoice, InvoiceStatus, Payment
from portal_runtime import logs
from portal_runtime.db import is_sqlite
from portal_runtime.service import Job

log = logs.get("billing")

OVERDUE_BATCH = 100
SETTLE_BATCH = 50


def mark_overdue(service) -> int:
    """Mark unpaid invoices past their due date overdue, once each; return how many."""
    today = service.clock.today()
    marked = 0
    while True:
        with service.uow() as uow:
            query = (
                select(Invoice)
                .where(
                    Invoice.status == InvoiceStatus.not_paid,
                    Invoice.overdue_at.is_(None),
                    Invoice.due_date < today,
                )
                .order_by(Invoice.id)
                .limit(OVERDUE_BATCH)
            )
            if not is_sqlite(uow.session.get_bind()):
                # Two workers running the job split the rows instead of both announcing them.
                query = query.with_for_update(skip_locked=True)
            invoices = list(uow.session.scalars(query))
            if not invoices:
                return marked
            now = service.clock.now()
            for invoice in invoices:
                invoice.overdue_at = now
                uow.record("billing.invoice.overdue", events.invoice_overdue(invoice))
                log.info("invoice.overdue", invoice_number=invoice.number)
            uow.commit()
            marked += len(invoices)


def settle_unknown_payments(service) -> int:
    """Settle attempts left pending by a crash, asking the provider by idempotency key.

    Only attempts older than ``payment_settle_after_seconds`` (longer than any provider call
    takes) are looked at, so one still in flight is left to its caller. Returns how many.
    """
    settled = 0
    while True:
        cutoff = service.clock.now() - dt.timedelta(
            seconds=service.config.payment_settle_after_seconds
        )
        with service.uow() as uow:
            query = (
                select(Payment)
                .where(Payment.status == "pending", Payment.created_at < cutoff)
                .order_by(Payment.id)
                .limit(SETTLE_BATCH)
            )
            if not is_sqlite(uow.session.get_bind()):
                # Two workers running the job split the attempts instead of both settling one.
                query = query.with_for_update(skip_locked=True)
            pending = list(uow.session.scalars(query))
            if not pending:
                return settled
            for attempt in pending:
                settlement.settle_attempt(uow, service.payments, service.clock, attempt)
            uow.commit()
            settled += len(pending)


def jobs(config: BillingConfig) -> tuple[Job, ...]:
    """The worker's jobs, at the intervals the settings give."""
    return (
        Job("mark-overdue-invoices", config.overdue_check_seconds, mark_overdue),
        Job("settle-unknown-payments", config.payment_reconcile_seconds, settle_unknown_payments),
    )
