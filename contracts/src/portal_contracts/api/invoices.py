"""Invoices: search, the warning-sign summary, one invoice, its PDF, and paying it."""

from marshmallow import fields, validate

from portal_contracts.api.common import (
    CustomerRefSchema,
    ListArgs,
    Money,
    Strict,
    TaxLineSchema,
    page_of,
)
from portal_contracts.api.orders import BillingAddressSchema

STATUSES = ["not_paid", "paid", "applied"]
PAYMENT_TYPES = ["online", "credit_note", "postpaid"]


class InvoiceLineSchema(Strict):
    """A line of an invoice, in GET /invoices/{number}."""

    line_no = fields.Integer(dump_only=True)
    product = fields.String(dump_only=True)
    product_name = fields.String(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    # new or renewal (upgrade and downgrade lines are new subscriptions of their product)
    kind = fields.String(dump_only=True)
    # The order line's kind: new, renewal, upgrade or downgrade (as the PDF prints it)
    order_kind = fields.String(dump_only=True)
    start_date = fields.Date(dump_only=True)
    end_date = fields.Date(dump_only=True)
    unit_price = Money(dump_only=True)
    amount = Money(dump_only=True)


class CreditNoteRefSchema(Strict):
    """The credit note that settled or refunded an invoice, in GET /invoices/{number}."""

    number = fields.String(dump_only=True)
    issued_on = fields.Date(dump_only=True)
    # Credited, as positive figures (the document prints them negative): gross, net, tax.
    amount = Money(dump_only=True)
    subtotal = Money(dump_only=True)
    tax = fields.List(fields.Nested(TaxLineSchema), dump_only=True)
    refunded = fields.Boolean(dump_only=True)
    pdf_url = fields.String(dump_only=True)
    # SHA-256 (hex) of the stored PDF: every download returns exactly these bytes.
    pdf_sha256 = fields.String(dump_only=True)


class InvoiceSchema(Strict):
    """One invoice: GET /invoices/{number}, items of GET /invoices, POST /invoices/{n}/pay."""

    number = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    payment_type = fields.String(dump_only=True)
    issued_on = fields.Date(dump_only=True)
    due_date = fields.Date(dump_only=True)
    paid_at = fields.DateTime(dump_only=True, allow_none=True)
    overdue = fields.Boolean(dump_only=True)
    # The gross amount charged: subtotal (net lines) + tax.
    amount = Money(dump_only=True)
    subtotal = Money(dump_only=True)
    tax = fields.List(fields.Nested(TaxLineSchema), dump_only=True)
    amount_paid = Money(dump_only=True)
    amount_due = Money(dump_only=True)
    currency = fields.String(dump_only=True)
    order_number = fields.String(dump_only=True)
    po_number = fields.String(dump_only=True, allow_none=True)
    customer = fields.Nested(CustomerRefSchema, dump_only=True)
    # Who is billed, as given at checkout or on the quote.
    billing_address = fields.Nested(BillingAddressSchema, dump_only=True, allow_none=True)
    lines = fields.List(fields.Nested(InvoiceLineSchema), dump_only=True)
    payment_failure_reason = fields.String(dump_only=True, allow_none=True)
    grace_until = fields.Date(dump_only=True, allow_none=True)
    credit_note = fields.Nested(CreditNoteRefSchema, dump_only=True, allow_none=True)
    pdf_url = fields.String(dump_only=True)
    # SHA-256 (hex) of the stored PDF as issued: every download returns exactly these bytes.
    pdf_sha256 = fields.String(dump_only=True)


InvoicePageSchema = page_of(InvoiceSchema, "InvoicePageSchema")


class InvoiceSearchArgs(ListArgs):
    """Query of GET /invoices."""

    number = fields.String(validate=validate.Length(max=60))
    customer_name = fields.String(validate=validate.Length(max=200))
    customer_email = fields.String(validate=validate.Length(max=254))
    status = fields.String(validate=validate.OneOf(STATUSES))
    overdue = fields.Boolean()


class InvoiceSummarySchema(Strict):
    """Answer of GET /invoices/summary: the counts behind the warning sign."""

    unpaid = fields.Integer(dump_only=True)
    overdue = fields.Integer(dump_only=True)


class PayInvoiceRequest(Strict):
    """Body of POST /invoices/{number}/pay."""

    payment_method_id = fields.String(required=True, validate=validate.Length(min=1, max=60))
