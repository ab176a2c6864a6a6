"""The payloads of the events billing publishes (``portal_contracts.events.billing``)."""

from __future__ import annotations

import datetime as dt

from billing.models import CreditNote, Invoice


def customer_of(invoice: Invoice) -> dict:
    return {
        "id": invoice.customer_id,
        "name": invoice.customer_name,
        "email": invoice.customer_email,
    }


def invoice_issued(invoice: Invoice) -> dict:
    return {
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "reseller_id": invoice.reseller_id,
        "buyer": invoice.buyer,
        "customer": customer_of(invoice),
        "amount": invoice.amount,
        "currency": invoice.currency,
        "status": invoice.status,
        "payment_type": invoice.payment_type,
        "issued_on": invoice.issued_on,
        "due_date": invoice.due_date,
        "po_number": invoice.po_number,
    }


def payment_captured(invoice: Invoice, method_kind: str) -> dict:
    return {
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "customer_id": invoice.customer_id,
        "amount": invoice.amount,
        "currency": invoice.currency,
        "captured_at": invoice.paid_at,
        "method_kind": method_kind,
    }


def payment_failed(invoice: Invoice, failed_at: dt.datetime) -> dict:
    return {
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "buyer": invoice.buyer,
        "customer": customer_of(invoice),
        "amount": invoice.amount,
        "currency": invoice.currency,
        "failed_at": failed_at,
        "reason": invoice.payment_failure_reason,
        "grace_until": invoice.grace_until,
    }


def invoice_overdue(invoice: Invoice) -> dict:
    return {
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "buyer": invoice.buyer,
        "customer": customer_of(invoice),
        "amount": invoice.amount,
        "currency": invoice.currency,
        "due_date": invoice.due_date,
    }


def credit_note_issued(note: CreditNote, invoice: Invoice) -> dict:
    return {
        "credit_note_number": note.number,
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "buyer": invoice.buyer,
        "amount": note.amount,
        "currency": note.currency,
        "refunded": note.refunded,
    }
