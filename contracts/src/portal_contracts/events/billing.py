"""Events the billing service publishes."""

from marshmallow import validate

from portal_contracts.base import Money, Payload, fields
from portal_contracts.common import Buyer, Customer

STATUSES = ["not_paid", "paid", "applied"]
PAYMENT_TYPES = ["online", "credit_note", "postpaid"]


class InvoiceIssued(Payload):
    invoice_number = fields.String(required=True)
    order_number = fields.String(required=True)
    reseller_id = fields.String(required=True, allow_none=True)
    buyer = fields.Nested(Buyer, required=True)
    customer = fields.Nested(Customer, required=True)
    amount = Money(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    payment_type = fields.String(required=True, validate=validate.OneOf(PAYMENT_TYPES))
    issued_on = fields.Date(required=True)
    due_date = fields.Date(required=True)
    po_number = fields.String(load_default=None, allow_none=True)


class PaymentCaptured(Payload):
    """Money came in for an invoice issued unpaid (a retried or reconciled charge). A charge
    approved when the invoice is issued is not announced twice: ``billing.invoice.issued`` with
    status ``paid`` says it."""

    invoice_number = fields.String(required=True)
    order_number = fields.String(required=True)
    customer_id = fields.String(required=True)
    amount = Money(required=True)
    currency = fields.String(required=True)
    captured_at = fields.AwareDateTime(required=True)
    method_kind = fields.String(required=True, validate=validate.OneOf(["card", "paypal"]))


class PaymentFailed(Payload):
    invoice_number = fields.String(required=True)
    order_number = fields.String(required=True)
    buyer = fields.Nested(Buyer, required=True)
    customer = fields.Nested(Customer, required=True)
    amount = Money(required=True)
    currency = fields.String(required=True)
    failed_at = fields.AwareDateTime(required=True)
    reason = fields.String(required=True)
    # Licenses stay usable until this day; then they are suspended until payment.
    grace_until = fields.Date(required=True)


class InvoiceOverdue(Payload):
    invoice_number = fields.String(required=True)
    order_number = fields.String(required=True)
    buyer = fields.Nested(Buyer, required=True)
    customer = fields.Nested(Customer, required=True)
    amount = Money(required=True)
    currency = fields.String(required=True)
    due_date = fields.Date(required=True)


class CreditNoteIssued(Payload):
    credit_note_number = fields.String(required=True)
    invoice_number = fields.String(required=True)
    order_number = fields.String(required=True)
    buyer = fields.Nested(Buyer, required=True)
    amount = Money(required=True)
    currency = fields.String(required=True)
    refunded = fields.Boolean(required=True)


EVENTS = {
    ("billing.invoice.issued", 1): InvoiceIssued,
    ("billing.payment.captured", 1): PaymentCaptured,
    ("billing.payment.failed", 1): PaymentFailed,
    ("billing.invoice.overdue", 1): InvoiceOverdue,
    ("billing.credit_note.issued", 1): CreditNoteIssued,
}
