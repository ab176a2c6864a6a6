"""Billing's HTTP API, reached through the gateway: invoices and payment methods."""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from billing.documents import (
    credit_note_document,
    credit_notes_with_invoice,
    document_sha256,
    invoice_document,
)
from billing.handlers import (
    NotPayable,
    PayInvoice,
    PaymentInProgress,
    UnknownMethod,
    add_card,
    pay_invoice,
    start_paypal,
)
from billing.models import CreditNote, Invoice, InvoiceDocument, PaymentMethod
from billing.views import internal_method_view, invoice_view, method_view
from portal_contracts.api.invoices import InvoiceSearchArgs, PayInvoiceRequest
from portal_contracts.api.payment_methods import CreatePaymentMethodRequest, PaymentMethodListArgs
from portal_runtime.identity import Identity
from portal_runtime.problems import Problem, conflict, invalid, not_found
from portal_runtime.queries import contains, equals_ci, page
from portal_runtime.web import (
    current_identity,
    current_service,
    json_body,
    require_role,
    unit_of_work,
)

bp = Blueprint("billing", __name__)

BILLING_ROLES = ("admin", "billing")


def billing_caller() -> Identity:
    """A reseller user with the admin or billing role, a customer admin, or a service."""
    identity = current_identity()
    require_role(identity, *BILLING_ROLES)
    return identity


def tenant_filter(identity: Identity) -> str | None:
    """The tenant whose data the caller sees; None for services, which see everything."""
    return None if identity.is_service else identity.tenant


def with_settlement(query: Select) -> Select:
    # The invoice row and its credit note in one statement: read in two, a commit in between
    # could show a credit note beside the status it replaced (READ COMMITTED).
    return query.options(joinedload(Invoice.credit_note), selectinload(Invoice.lines))


def owned(query: Select, model, identity: Identity) -> Select:
    tenant = tenant_filter(identity)
    return query if tenant is None else query.where(model.tenant == tenant)


# -- invoices ------------------------------------------------------------------------------------


@bp.get("/invoices")
def search_invoices():
    identity = billing_caller()
    args = InvoiceSearchArgs().load(request.args.to_dict())
    query = owned(with_settlement(select(Invoice)), Invoice, identity)
    if args.get("number"):
        query = query.where(equals_ci(Invoice.number, args["number"]))
    if args.get("customer_name"):
        query = query.where(contains(Invoice.customer_name, args["customer_name"]))
    if args.get("customer_email"):
        query = query.where(equals_ci(Invoice.customer_email, args["customer_email"]))
    if args.get("status"):
        query = query.where(Invoice.status == args["status"])
    if "overdue" in args:
        is_overdue = (Invoice.status == "not_paid") & Invoice.overdue_at.is_not(None)
        query = query.where(is_overdue if args["overdue"] else ~is_overdue)
    with current_service().sessions() as session:
        rows, next_cursor = page(session, query, Invoice.id, args.get("limit"), args.get("cursor"))
        # The digests of the PDFs already stored (a list renders nothing).
        digests = dict(
            session.execute(
                select(InvoiceDocument.invoice_id, InvoiceDocument.sha256).where(
                    InvoiceDocument.invoice_id.in_([i.id for i in rows]),
                    InvoiceDocument.version == 1,
                )
            ).all()
        )
        items = [invoice_view(i, digests.get(i.id)) for i in rows]
        return {"items": items, "next_cursor": next_cursor}


@bp.get("/invoices/summary")
def invoice_summary():
    identity = billing_caller()
    unpaid = Invoice.status == "not_paid"
    query = owned(
        select(
            func.count(Invoice.id).filter(unpaid),
            func.count(Invoice.id).filter(unpaid & Invoice.overdue_at.is_not(None)),
        ),
        Invoice,
        identity,
    )
    with current_service().sessions() as session:
        unpaid_count, overdue_count = session.execute(query).one()
    return {"unpaid": unpaid_count, "overdue": overdue_count}


def _invoice(session, identity: Identity, number: str) -> Invoice:
    invoice = session.scalar(
        owned(with_settlement(select(Invoice)).where(Invoice.number == number), Invoice, identity)
    )
    if invoice is None:
        raise not_found("invoice")
    return invoice


def _credit_note(session, invoice: Invoice) -> CreditNote | None:
    if invoice.credit_note is None:
        return None
    return session.scalar(
        credit_notes_with_invoice().where(CreditNote.id == invoice.credit_note.id)
    )


@bp.get("/invoices/<number>")
def get_invoice(number: str):
    identity = billing_caller()
    service = current_service()
    with service.sessions() as session:
        invoice = _invoice(session, identity, number)
        note = _credit_note(session, invoice)
    # The digests of the stored PDFs (rendered and stored now if the worker has not yet).
    doc = invoice_document(service, invoice)
    note_doc = credit_note_document(service, note) if note is not None else None
    return invoice_view(
        invoice, document_sha256(doc), document_sha256(note_doc) if note_doc else None
    )


def pdf_answer(doc, filename: str) -> Response:
    digest = document_sha256(doc)
    return Response(
        doc.content,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}.pdf"',
            "ETag": f'"{digest}"',
            "X-Content-SHA256": digest,
        },
    )


@bp.get("/invoices/<number>/pdf")
def invoice_pdf(number: str):
    """The invoice's PDF as issued: the same bytes on every download."""
    identity = billing_caller()
    service = current_service()
    with service.sessions() as session:
        invoice = _invoice(session, identity, number)
    return pdf_answer(invoice_document(service, invoice), invoice.number)


@bp.get("/invoices/<number>/credit-note/pdf")
def credit_note_pdf(number: str):
    """The PDF of the credit note that corrects this invoice (404 while there is none)."""
    identity = billing_caller()
    service = current_service()
    with service.sessions() as session:
        note = _credit_note(session, _invoice(session, identity, number))
    if note is None:
        raise not_found("credit note")
    return pdf_answer(credit_note_document(service, note), note.number)


@bp.post("/invoices/<number>/pay")
def pay(number: str):
    identity = billing_caller()
    data = PayInvoiceRequest().load(json_body())
    service = current_service()
    cmd = PayInvoice(number, tenant_filter(identity), data["payment_method_id"])
    with unit_of_work() as uow:
        try:
            invoice = pay_invoice(cmd, uow, service.billing)
        except NotPayable as exc:
            raise conflict(f"This invoice is {exc} and takes no payment.")
        except PaymentInProgress:
            raise conflict(
                "A payment of this invoice is still waiting for the provider's answer; "
                "try again in a few minutes."
            )
        except UnknownMethod:
            raise invalid({"payment_method_id": ["No active payment method with this id."]})
        if invoice is None:
            raise not_found("invoice")
        uow.commit()
        paid = invoice.status == "paid"
        number = invoice.number
    if not paid:
        raise Problem(
            402,
            "The payment was declined; the invoice is still unpaid.",
            title="Payment declined",
            errors={"payment_method_id": ["Declined by the payment provider."]},
        )
    with service.sessions() as session:
        invoice = session.scalar(with_settlement(select(Invoice)).where(Invoice.number == number))
    return invoice_view(invoice, document_sha256(invoice_document(service, invoice)))


# -- payment methods -----------------------------------------------------------------------------


def method_manager() -> Identity:
    """Admins and billing users manage a reseller's methods; sales users may not."""
    identity = current_identity()
    require_role(identity, *BILLING_ROLES)
    if identity.is_service:
        raise Problem(403, "Payment methods are managed by people.")
    return identity


@bp.get("/payment-methods")
def list_methods():
    identity = method_manager()
    args = PaymentMethodListArgs().load(request.args.to_dict())
    query = select(PaymentMethod).where(PaymentMethod.tenant == identity.tenant)
    with current_service().sessions() as session:
        rows, next_cursor = page(
            session, query, PaymentMethod.pk, args.get("limit"), args.get("cursor")
        )
        return {"items": [method_view(m) for m in rows], "next_cursor": next_cursor}


@bp.post("/payment-methods")
def create_method():
    identity = method_manager()
    data = CreatePaymentMethodRequest().load(json_body())
    service = current_service()
    with unit_of_work() as uow:
        if data["kind"] == "card":
            method = add_card(uow, service.billing, identity.tenant, data["vault_token"])
            if method is None:
                raise invalid({"vault_token": ["Not a vault token of yours."]})
        else:
            if not service.config.may_return_to(data["return_url"]):
                raise invalid(
                    {"return_url": ["Must be a page of the portal (or of PAYPAL_RETURN_HOSTS)."]}
                )
            method = start_paypal(uow, service.billing, identity.tenant, data["return_url"])
        body = method_view(method)
        uow.commit()
    return body, 201, {"Location": f"/api/v1/payment-methods/{method.id}"}


@bp.delete("/payment-methods/<method_id>")
def remove_method(method_id: str):
    identity = method_manager()
    with unit_of_work() as uow:
        method = uow.session.scalar(
            select(PaymentMethod).where(
                PaymentMethod.id == method_id, PaymentMethod.tenant == identity.tenant
            )
        )
        if method is None:
            raise not_found("payment method")
        uow.session.delete(method)
        uow.commit()
    return "", 204


@bp.get("/internal/payment-methods/<method_id>")
def internal_method(method_id: str):
    """Any user of the tenant may pay with its stored methods (orders checks at checkout)."""
    identity = current_identity()
    if identity.is_service:
        raise not_found("payment method")
    with current_service().sessions() as session:
        method = session.scalar(
            select(PaymentMethod).where(
                PaymentMethod.id == method_id, PaymentMethod.tenant == identity.tenant
            )
        )
        if method is None:
            raise not_found("payment method")
        return internal_method_view(method)
