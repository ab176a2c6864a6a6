"""The read side of billing's GET routes: invoices and payment methods a caller may see.

``tenant`` is the caller's (``identity.tenant``); None for a service identity, which sees all.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from billing.documents import credit_notes_with_invoice
from billing.models import CreditNote, Invoice, InvoiceDocument, InvoiceStatus, PaymentMethod
from portal_runtime.errors import NotFound
from portal_runtime.queries import contains, equals_ci, page


def with_settlement(query: Select) -> Select:
    # The invoice row and its credit note in one statement: read in two, a commit in between
    # could show a credit note beside the status it replaced (READ COMMITTED).
    return query.options(joinedload(Invoice.credit_note), selectinload(Invoice.lines))


def owned(query: Select, model, tenant: str | None) -> Select:
    return query if tenant is None else query.where(model.tenant == tenant)


def search_invoices(session: Session, tenant: str | None, args: dict):
    """``(invoices, next_cursor, {invoice id: stored PDF's SHA-256})`` for ``InvoiceSearchArgs``."""
    query = owned(with_settlement(select(Invoice)), Invoice, tenant)
    if args.get("number"):
        query = query.where(equals_ci(Invoice.number, args["number"]))
    if args.get("customer_name"):
        query = query.where(contains(Invoice.customer_name, args["customer_name"]))
    if args.get("customer_email"):
        query = query.where(equals_ci(Invoice.customer_email, args["customer_email"]))
    if args.get("status"):
        query = query.where(Invoice.status == args["status"])
    if "overdue" in args:
        is_overdue = (Invoice.status == InvoiceStatus.not_paid) & Invoice.overdue_at.is_not(None)
        query = query.where(is_overdue if args["overdue"] else ~is_overdue)
    rows, next_cursor = page(
        session, query, Invoice.id, args.get("limit"), args.get("cursor"), keys_first=True
    )
    # The digests of the PDFs already stored (a list renders nothing).
    digests = dict(
        session.execute(
            select(InvoiceDocument.invoice_id, InvoiceDocument.sha256).where(
                InvoiceDocument.invoice_id.in_([i.id for i in rows]),
                InvoiceDocument.version == 1,
            )
        ).all()
    )
    return rows, next_cursor, digests


def invoice_summary(session: Session, tenant: str | None) -> dict:
    unpaid = Invoice.status == InvoiceStatus.not_paid
    query = owned(
        select(
            func.count(Invoice.id).filter(unpaid),
            func.count(Invoice.id).filter(unpaid & Invoice.overdue_at.is_not(None)),
        ),
        Invoice,
        tenant,
    )
    unpaid_count, overdue_count = session.execute(query).one()
    return {"unpaid": unpaid_count, "overdue": overdue_count}


def invoice(session: Session, tenant: str | None, number: str) -> Invoice:
    """The invoice with its lines and credit note; 404 if missing or not the tenant's."""
    found = session.scalar(
        owned(with_settlement(select(Invoice)).where(Invoice.number == number), Invoice, tenant)
    )
    if found is None:
        raise NotFound("invoice")
    return found


def credit_note_of(session: Session, invoice: Invoice) -> CreditNote | None:
    if invoice.credit_note is None:
        return None
    return session.scalar(
        credit_notes_with_invoice().where(CreditNote.id == invoice.credit_note.id)
    )


def payment_methods(session: Session, tenant: str, args: dict):
    """``(methods, next_cursor)`` of the tenant, for ``PaymentMethodListArgs``."""
    query = select(PaymentMethod).where(PaymentMethod.tenant == tenant)
    return page(session, query, PaymentMethod.pk, args.get("limit"), args.get("cursor"))


def payment_method(session: Session, tenant: str, method_id: str) -> PaymentMethod:
    method = session.scalar(
        select(PaymentMethod).where(PaymentMethod.id == method_id, PaymentMethod.tenant == tenant)
    )
    if method is None:
        raise NotFound("payment method")
    return method
