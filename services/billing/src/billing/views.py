"""How invoices and payment methods look from outside: the public shapes of API.md."""

from __future__ import annotations

from billing.models import Invoice, PaymentMethod
from portal_contracts.api.invoices import InvoiceSchema
from portal_contracts.api.payment_methods import InternalPaymentMethodSchema, PaymentMethodSchema

INVOICE = InvoiceSchema()
METHOD = PaymentMethodSchema()
INTERNAL_METHOD = InternalPaymentMethodSchema()


def invoice_view(invoice: Invoice) -> dict:
    note = invoice.credit_note
    return INVOICE.dump(
        {
            "number": invoice.number,
            "status": invoice.status,
            "payment_type": invoice.payment_type,
            "issued_on": invoice.issued_on,
            "due_date": invoice.due_date,
            "paid_at": invoice.paid_at,
            "overdue": invoice.overdue,
            "amount": invoice.amount,
            "currency": invoice.currency,
            "order_number": invoice.order_number,
            "po_number": invoice.po_number,
            "customer": {
                "id": invoice.customer_id,
                "name": invoice.customer_name,
                "email": invoice.customer_email,
            },
            "lines": invoice.lines,
            "payment_failure_reason": invoice.payment_failure_reason,
            "grace_until": invoice.grace_until,
            "credit_note": None
            if note is None
            else {
                "number": note.number,
                "issued_on": note.issued_on,
                "amount": note.amount,
                "refunded": note.refunded,
            },
            "pdf_url": f"/api/v1/invoices/{invoice.number}/pdf",
        }
    )


def method_view(method: PaymentMethod) -> dict:
    return METHOD.dump(
        {
            "id": method.id,
            "kind": method.kind,
            "status": method.status,
            "brand": method.brand,
            "last4": method.last4,
            "expiry": method.expiry,
            "holder": method.holder,
            "email": method.email,
            "redirect_url": method.redirect_url if method.status == "pending" else None,
            "created_at": method.created_at,
        }
    )


def internal_method_view(method: PaymentMethod) -> dict:
    return INTERNAL_METHOD.dump({"id": method.id, "kind": method.kind, "status": method.status})
