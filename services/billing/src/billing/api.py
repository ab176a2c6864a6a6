"""Billing's HTTP API, reached through the gateway: invoices and payment methods.

Each view checks the caller, then runs a command (``billing.commands``) or a query
(``billing.queries``) and presents the result (``billing.views``).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from billing import queries
from billing.commands import AddCard, PayInvoice, RemovePaymentMethod, StartPayPal
from billing.documents import credit_note_document, document_sha256, invoice_document
from billing.models import InvoiceStatus
from billing.views import internal_method_view, invoice_view, method_view
from portal_contracts.api.invoices import InvoiceSearchArgs, PayInvoiceRequest
from portal_contracts.api.payment_methods import CreatePaymentMethodRequest, PaymentMethodListArgs
from portal_runtime.errors import Forbidden, NotFound
from portal_runtime.identity import Identity
from portal_runtime.problems import Problem
from portal_runtime.web import (
    current_identity,
    current_service,
    json_body,
    request_id,
    require_role,
    schema,
)

bp = Blueprint("billing", __name__)

BILLING_ROLES = ("admin", "billing")


def handle(command):
    """Run ``command`` in a unit of work of its own whose events carry this request's id."""
    return current_service().handle(command, correlation_id=request_id())


def billing_caller() -> Identity:
    """A reseller user with the admin or billing role, a customer admin, or a service."""
    identity = current_identity()
    require_role(identity, *BILLING_ROLES)
    return identity


def tenant_filter(identity: Identity) -> str | None:
    """The tenant whose data the caller sees; None for services, which see everything."""
    return None if identity.is_service else identity.tenant


# -- invoices ------------------------------------------------------------------------------------


@bp.get("/invoices")
def search_invoices():
    tenant = tenant_filter(billing_caller())
    args = schema(InvoiceSearchArgs).load(request.args.to_dict())
    with current_service().sessions() as session:
        rows, next_cursor, digests = queries.search_invoices(session, tenant, args)
        items = [invoice_view(i, digests.get(i.id)) for i in rows]
        return {"items": items, "next_cursor": next_cursor}


@bp.get("/invoices/summary")
def invoice_summary():
    tenant = tenant_filter(billing_caller())
    with current_service().sessions() as session:
        return queries.invoice_summary(session, tenant)


@bp.get("/invoices/<number>")
def get_invoice(number: str):
    tenant = tenant_filter(billing_caller())
    service = current_service()
    with service.sessions() as session:
        invoice = queries.invoice(session, tenant, number)
        note = queries.credit_note_of(session, invoice)
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
    tenant = tenant_filter(billing_caller())
    service = current_service()
    with service.sessions() as session:
        invoice = queries.invoice(session, tenant, number)
    return pdf_answer(invoice_document(service, invoice), invoice.number)


@bp.get("/invoices/<number>/credit-note/pdf")
def credit_note_pdf(number: str):
    """The PDF of the credit note that corrects this invoice (404 while there is none)."""
    tenant = tenant_filter(billing_caller())
    service = current_service()
    with service.sessions() as session:
        note = queries.credit_note_of(session, queries.invoice(session, tenant, number))
    if note is None:
        raise NotFound("credit note")
    return pdf_answer(credit_note_document(service, note), note.number)


@bp.post("/invoices/<number>/pay")
def pay(number: str):
    identity = billing_caller()
    data = schema(PayInvoiceRequest).load(json_body())
    service = current_service()
    invoice = handle(PayInvoice(number, tenant_filter(identity), data["payment_method_id"]))
    if invoice.status != InvoiceStatus.paid:
        raise Problem(
            402,
            "The payment was declined; the invoice is still unpaid.",
            title="Payment declined",
            errors={"payment_method_id": ["Declined by the payment provider."]},
        )
    with service.sessions() as session:
        invoice = queries.invoice(session, None, invoice.number)
    return invoice_view(invoice, document_sha256(invoice_document(service, invoice)))


# -- payment methods -----------------------------------------------------------------------------


def method_manager() -> Identity:
    """Admins and billing users manage a reseller's methods; sales users may not."""
    identity = current_identity()
    require_role(identity, *BILLING_ROLES)
    if identity.is_service:
        raise Forbidden("Payment methods are managed by people.")
    return identity


@bp.get("/payment-methods")
def list_methods():
    identity = method_manager()
    args = schema(PaymentMethodListArgs).load(request.args.to_dict())
    with current_service().sessions() as session:
        rows, next_cursor = queries.payment_methods(session, identity.tenant, args)
        return {"items": [method_view(m) for m in rows], "next_cursor": next_cursor}


@bp.post("/payment-methods")
def create_method():
    identity = method_manager()
    data = schema(CreatePaymentMethodRequest).load(json_body())
    if data["kind"] == "card":
        method = handle(AddCard(identity.tenant, data["vault_token"]))
    else:
        method = handle(StartPayPal(identity.tenant, data["return_url"]))
    return method_view(method), 201, {"Location": f"/api/v1/payment-methods/{method.id}"}


@bp.delete("/payment-methods/<method_id>")
def remove_method(method_id: str):
    identity = method_manager()
    handle(RemovePaymentMethod(identity.tenant, method_id))
    return "", 204


@bp.get("/internal/payment-methods/<method_id>")
def internal_method(method_id: str):
    """Any user of the tenant may pay with its stored methods (orders checks at checkout)."""
    identity = current_identity()
    if identity.is_service:
        raise NotFound("payment method")
    with current_service().sessions() as session:
        return internal_method_view(queries.payment_method(session, identity.tenant, method_id))
