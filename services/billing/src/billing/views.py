"""How invoices and payment methods look from outside: the public shapes of API.md."""

from __future__ import annotations

from decimal import Decimal

from billing.models import Invoice, PaymentMethod
from portal_contracts.api.invoices import InvoiceSchema
from portal_contracts.api.payment_methods import InternalPaymentMethodSchema, PaymentMethodSchema

ZERO = Decimal("0.00")
INVOICE = InvoiceSchema()
METHOD = PaymentMethodSchema()
INTERNAL_METHOD = InternalPaymentMethodSchema()


def amounts_of(invoice: Invoice) -> tuple[Decimal, Decimal]:
    """(paid, due) now: a paid invoice owes nothing, one settled by a credit note neither."""
    paid = invoice.amount if invoice.status == "paid" else ZERO
    due = invoice.amount if invoice.status == "not_paid" else ZERO
    return paid, due


def invoice_view(invoice: Invoice, pdf_sha256: str | None = None, note_sha256=None) -> dict:
    """``pdf_sha256``/``note_sha256``: the stored PDFs' digests, where known."""
    note = invoice.credit_note
    paid, due = amounts_of(invoice)
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
            "subtotal": invoice.amount if invoice.subtotal is None else invoice.subtotal,
            "tax": invoice.tax or [],
            "amount_paid": paid,
            "amount_due": due,
            "currency": invoice.currency,
            "order_number": invoice.order_number,
            "po_number": invoice.po_number,
            "customer": {
                "id": invoice.customer_id,
                "name": invoice.customer_name,
                "email": invoice.customer_email,
            },
            "billing_address": invoice.billing_address,
            "lines": [
                {
                    "line_no": line.line_no,
                    "product": line.product,
                    "product_name": line.product_name or line.product,
                    "quantity": line.quantity,
                    "kind": line.kind,
                    "order_kind": line.order_kind or line.kind,
                    "start_date": line.start_date,
                    "end_date": line.end_date,
                    "unit_price": line.unit_price,
                    "amount": line.amount,
                }
                for line in invoice.lines
            ],
            "payment_failure_reason": invoice.payment_failure_reason,
            "grace_until": invoice.grace_until,
            "credit_note": None
            if note is None
            else {
                "number": note.number,
                "issued_on": note.issued_on,
                "amount": note.amount,
                "subtotal": note.amount if note.subtotal is None else note.subtotal,
                "tax": note.tax if note.tax is not None else (invoice.tax or []),
                "refunded": note.refunded,
                "pdf_url": f"/api/v1/invoices/{invoice.number}/credit-note/pdf",
                **({"pdf_sha256": note_sha256} if note_sha256 else {}),
            },
            "pdf_url": f"/api/v1/invoices/{invoice.number}/pdf",
            **({"pdf_sha256": pdf_sha256} if pdf_sha256 else {}),
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
