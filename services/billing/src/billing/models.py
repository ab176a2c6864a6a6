"""What the billing service stores: invoices, their documents, credit notes, payments, methods.

Issued invoices are never edited in their lines or amounts; a later change of payment state is a
new status plus a new PDF version, and a correction is a credit note.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
    func,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from portal_runtime.db import Money, UTCDateTime, messaging_models, utcnow
from portal_runtime.errors import Conflict


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)


class InvoiceStatus(enum.StrEnum):
    """An invoice's payment state, stored as these strings: ``not_paid`` -> ``paid`` (a capture)
    or ``applied`` (settled by a credit note)."""

    not_paid = "not_paid"
    paid = "paid"
    applied = "applied"


class MethodStatus(enum.StrEnum):
    """A payment method's state: ``pending`` (PayPal awaiting approval) -> ``active``."""

    pending = "pending"
    active = "active"


class NumberSeries(Base):
    """The next number of a gapless series (``INV`` or ``CN``) of one seller and year
    (``owner`` = ``<seller code>-<year>``; older rows counted per reseller or customer).

    Advanced and locked by one upsert (``billing.numbering.take_next``) in the same transaction
    that inserts the numbered document, so a rolled-back insert gives its number back and
    competing workers queue for it; the PDF is
    rendered on first download (``billing.documents``), never under the lock.
    """

    __tablename__ = "number_series"

    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    owner: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    # Exactly one invoice per order.
    order_number: Mapped[str] = mapped_column(String(30), unique=True)
    # Whose invoice it is: ``reseller:<id>`` or ``customer:<id>`` (an identity's tenant).
    tenant: Mapped[str] = mapped_column(String(60), index=True)
    owner: Mapped[str] = mapped_column(String(40))
    buyer: Mapped[dict] = mapped_column(JSON)
    # The buyer's billing address as entered at checkout, when the order carried one.
    billing_address: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    reseller_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    po_number: Mapped[str | None] = mapped_column(String(60), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    # The gross amount charged: ``subtotal`` (net lines) + ``tax`` ([{rate, amount, note}]).
    amount: Mapped[Decimal] = mapped_column(Money())
    subtotal: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    tax: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # The seller as it was at issue, and the payment terms the invoice states (paid when and
    # how, or due when, where to transfer and with which reference): its PDF is drawn from
    # these, so it says the same whenever it is rendered.
    seller: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    terms: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    issued_on: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    # InvoiceStatus: not_paid | paid | applied
    status: Mapped[str] = mapped_column(String(12), index=True)
    # online | credit_note | postpaid
    payment_type: Mapped[str] = mapped_column(String(12))
    # How the order was to be paid: card | paypal | po, and with which stored method.
    payment_kind: Mapped[str] = mapped_column(String(10))
    payment_method_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    payment_failure_reason: Mapped[str | None] = mapped_column(String(100), nullable=True)
    grace_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Set once, by the overdue job, when the invoice is first seen unpaid past its due date.
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.line_no", cascade="all, delete-orphan"
    )
    documents: Mapped[list[InvoiceDocument]] = relationship(
        back_populates="invoice", order_by="InvoiceDocument.version", cascade="all, delete-orphan"
    )
    credit_note: Mapped[CreditNote | None] = relationship(back_populates="invoice")

    @property
    def overdue(self) -> bool:
        return self.status == InvoiceStatus.not_paid and self.overdue_at is not None

    def require_unpaid(self) -> None:
        """A 409 unless the invoice still waits for a payment (not paid, nor credited)."""
        if self.status != InvoiceStatus.not_paid:
            raise Conflict(f"This invoice is {self.status} and takes no payment.")

    def mark_paid(self, now: dt.datetime, method_id: str | None) -> None:
        """A capture paid it later, with this stored method (only an unpaid invoice is paid)."""
        self.require_unpaid()
        self.status, self.payment_type, self.paid_at = InvoiceStatus.paid, "online", now
        self.payment_method_id = method_id
        self.payment_failure_reason = None

    def apply_credit_note(self) -> None:
        """Settled by a credit note instead of a payment (only an unpaid invoice)."""
        self.require_unpaid()
        self.status, self.payment_type = InvoiceStatus.applied, "credit_note"


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product: Mapped[str] = mapped_column(String(20))
    product_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer)
    # new | renewal
    kind: Mapped[str] = mapped_column(String(12))
    # The order line's own kind: new | renewal | upgrade | downgrade
    order_kind: Mapped[str | None] = mapped_column(String(12), nullable=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceDocument(Base):
    """The invoice's PDF as issued, stored once (version 1) and returned unchanged by every
    download. (Invoices from before that kept a version per payment state; the first is the
    invoice as issued.)"""

    __tablename__ = "invoice_documents"
    __table_args__ = (UniqueConstraint("invoice_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # issued | paid | credited
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    invoice: Mapped[Invoice] = relationship(back_populates="documents")


class CreditNote(Base):
    """The correction of an invoice for a cancelled order: refunded if paid, else applied."""

    __tablename__ = "credit_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), unique=True)
    order_number: Mapped[str] = mapped_column(String(30), unique=True)
    tenant: Mapped[str] = mapped_column(String(60), index=True)
    # What is credited, as positive figures: the invoice's gross amount, net subtotal and tax
    # (the document prints them negative).
    amount: Mapped[Decimal] = mapped_column(Money())
    subtotal: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    tax: Mapped[list | None] = mapped_column(JSON, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    refunded: Mapped[bool] = mapped_column(Boolean)
    refund_reference: Mapped[str | None] = mapped_column(String(60), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    issued_on: Mapped[dt.date] = mapped_column(Date)

    invoice: Mapped[Invoice] = relationship(back_populates="credit_note")
    document: Mapped[CreditNoteDocument | None] = relationship(back_populates="credit_note")


class CreditNoteDocument(Base):
    """A credit note's PDF, stored once and returned unchanged by every download."""

    __tablename__ = "credit_note_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("credit_notes.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))

    credit_note: Mapped[CreditNote] = relationship(back_populates="document")


class EarlyCancellation(Base):
    """A cancellation that overtook its order's invoice (competing workers, a retried invoice).

    Kept, not dead-lettered: issuing the invoice applies it at once (a credit note, refunded if
    the order was paid) and removes it.
    """

    __tablename__ = "early_cancellations"

    order_number: Mapped[str] = mapped_column(String(30), primary_key=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Payment(Base):
    """One payment attempt (or refund) at the provider, recorded before the provider is called.

    ``pending`` until the provider's answer is written (``captured`` / ``declined``); an attempt
    left pending by a crash is settled by the ``settle-unknown-payments`` job, which asks the
    provider by ``idempotency_key`` (``abandoned`` when the provider never received it).
    """

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # None while the order's invoice is not issued yet (the charge comes first).
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id"), index=True, nullable=True
    )
    order_number: Mapped[str | None] = mapped_column(String(30), nullable=True, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    method_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    method_kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    # pending | captured | declined | abandoned | refunded
    status: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str | None] = mapped_column(String(100), nullable=True)
    provider_reference: Mapped[str | None] = mapped_column(String(60), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # The invoice it paid: set with the outcome, the two are written in one UPDATE after the
    # invoice's INSERT.
    invoice: Mapped[Invoice | None] = relationship()


class PaymentMethod(Base):
    """A stored method of a tenant: a card as the provider's token, or a PayPal agreement.

    Only the token, brand, last four digits and expiry of a card are kept, never its number.
    """

    __tablename__ = "payment_methods"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(60), unique=True)
    tenant: Mapped[str] = mapped_column(String(60), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    # MethodStatus: pending (PayPal awaiting approval) | active
    status: Mapped[str] = mapped_column(String(10))
    # The provider's token: a vault token for a card, the agreement id for PayPal.
    provider_token: Mapped[str | None] = mapped_column(String(100), nullable=True)
    brand: Mapped[str | None] = mapped_column(String(20), nullable=True)
    last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    expiry: Mapped[str | None] = mapped_column(String(7), nullable=True)
    holder: Mapped[str | None] = mapped_column(String(100), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # PayPal set-up: the approval token, and where the user goes back to afterwards.
    approval_token: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    redirect_url: Mapped[str | None] = mapped_column(String(2100), nullable=True)
    return_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def activate(self, provider_token: str, email: str | None) -> None:
        """The payer approved the PayPal agreement; a method already active keeps its own."""
        if self.status != MethodStatus.active:
            self.provider_token, self.email = provider_token, email
            self.status = MethodStatus.active


# -- issued documents are never edited ---------------------------------------------------------

# What an issued invoice says about the sale; only its payment state may change later.
ISSUED_FIELDS = (
    "number",
    "order_number",
    "tenant",
    "owner",
    "buyer",
    "billing_address",
    "reseller_id",
    "customer_id",
    "customer_name",
    "customer_email",
    "po_number",
    "currency",
    "amount",
    "subtotal",
    "tax",
    "seller",
    "terms",
    "issued_at",
    "issued_on",
)


class IssuedDocumentChanged(RuntimeError):
    """Code tried to edit what an issued invoice, its lines or a stored PDF say."""


@event.listens_for(Invoice, "before_update")
def _invoice_unchanged(_mapper, _connection, invoice: Invoice) -> None:
    state = inspect(invoice)
    changed = [f for f in ISSUED_FIELDS if state.attrs[f].history.has_changes()]
    if changed:
        raise IssuedDocumentChanged(f"invoice {invoice.number}: {', '.join(changed)}")


@event.listens_for(InvoiceLine, "before_update")
@event.listens_for(InvoiceLine, "before_delete")
@event.listens_for(InvoiceDocument, "before_update")
@event.listens_for(InvoiceDocument, "before_delete")
@event.listens_for(CreditNote, "before_delete")
@event.listens_for(CreditNoteDocument, "before_update")
@event.listens_for(CreditNoteDocument, "before_delete")
def _never_edited(_mapper, _connection, target) -> None:
    raise IssuedDocumentChanged(f"{type(target).__name__} is kept as issued")


# Searches of one tenant's invoices (GET /invoices): newest first, by number and email. Partial
# matches on customer names use a pg_trgm index on PostgreSQL (migration ``c9e5a7b32d43``).
Index(
    "ix_invoices_tenant_id",
    Invoice.tenant,
    Invoice.id,
    postgresql_include=["customer_name"],  # page(keys_first=True) filters on it in the index
)
Index("ix_invoices_lower_number", func.lower(Invoice.number))
Index("ix_invoices_lower_customer_email", func.lower(Invoice.customer_email))
