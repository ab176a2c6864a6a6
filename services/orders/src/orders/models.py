"""What the orders service stores, and how an order's state may move."""

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
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from portal_runtime.db import Money, UTCDateTime, messaging_models, utcnow
from portal_runtime.errors import Conflict


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)


class OrderStatus(enum.StrEnum):
    """An order is placed, and may be cancelled within the window (``Order.cancel``)."""

    PLACED = "placed"
    CANCELLED = "cancelled"


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # a card or PayPal charge under way
    PAID = "paid"
    INVOICED = "invoiced"  # PO: paid later, by invoice
    FAILED = "failed"
    CREDITED = "credited"  # a credit note settled the unpaid invoice
    REFUNDED = "refunded"  # the payment went back


# Billing's events may arrive in any order (a capture before the invoice, a late failure after
# a successful retry, a capture after the credit note): a credit note settles the order for good,
# "paid" is final otherwise, and nothing older ever overwrites either.
SETTLED = (PaymentStatus.CREDITED, PaymentStatus.REFUNDED)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str | None] = mapped_column(String(30), unique=True, nullable=True)
    # An ``OrderStatus`` and a ``PaymentStatus``, stored as their strings; they change only
    # through the methods below.
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PLACED)
    payment_status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.PENDING)
    payment_failure_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    buyer_kind: Mapped[str] = mapped_column(String(20))
    reseller_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    buyer_customer_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_email: Mapped[str] = mapped_column(String(254))
    buyer_user_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    end_user: Mapped[dict] = mapped_column(JSON)
    end_user_email: Mapped[str] = mapped_column(String(254))
    currency: Mapped[str] = mapped_column(String(3))
    # The net sum of the lines and the tax on it as cart-quote priced it (``[{rate, amount,
    # note}]``); ``total`` is the gross amount charged. NULL on orders from before tax.
    subtotal: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    tax: Mapped[list | None] = mapped_column(JSON, nullable=True)
    total: Mapped[Decimal] = mapped_column(Money())
    po_number: Mapped[str | None] = mapped_column(String(60), nullable=True)
    payment_kind: Mapped[str] = mapped_column(String(10))
    payment_method_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    send_activation_email: Mapped[bool] = mapped_column(Boolean, default=False)
    source_kind: Mapped[str] = mapped_column(String(10), default="direct")
    source_reference: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # One order per cart content or quote, whatever Idempotency-Key a retry carries: the cart is
    # closed only when cart-quote sees ``orders.order.placed``, so a second checkout could race it.
    # NULL for direct orders (NULLs never collide).
    source_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)
    billing_address: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    invoice_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    credit_note_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    cancelled_by: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", cascade="all, delete-orphan"
    )
    licenses: Mapped[list[OrderLicense]] = relationship(
        back_populates="order", order_by="OrderLicense.id", cascade="all, delete-orphan"
    )

    @property
    def license_ids(self) -> list[str]:
        return [lic.license_id for lic in self.licenses]

    @property
    def buyer(self) -> dict:
        """Who placed it, as the contracts carry a buyer."""
        return {
            "kind": self.buyer_kind,
            "reseller_id": self.reseller_id,
            "customer_id": self.buyer_customer_id,
            "name": self.buyer_name,
            "email": self.buyer_email,
            "user_id": self.buyer_user_id,
        }

    @property
    def customer(self) -> dict:
        return {"id": self.customer_id, "name": self.customer_name, "email": self.customer_email}

    def portal_url(self, portal_base_url: str) -> str:
        """The order's page in the portal, which the buyer's confirmation email links to."""
        return f"{portal_base_url.rstrip('/')}/portal/orders/{self.number}"

    def affected_license_ids(self) -> list[str]:
        """Every license the order produced or acted on: issued ones, and renewed/upgraded ones."""
        ids = list(self.license_ids)
        for line in self.lines:
            ids.extend(line.license_ids or [])
        return list(dict.fromkeys(ids))

    # -- what its buyer does --------------------------------------------------------------------

    def cancellable_until(self, window_days: int) -> dt.datetime | None:
        if self.status != OrderStatus.PLACED:
            return None
        return self.placed_at + dt.timedelta(days=window_days)

    def cancel(
        self, now: dt.datetime, *, window_days: int, by: dict, reason: str | None = None
    ) -> None:
        """Cancel within the window after placement; a ``Conflict`` afterwards or twice."""
        if self.status == OrderStatus.CANCELLED:
            raise Conflict("This order is already cancelled.")
        deadline = self.cancellable_until(window_days)
        if deadline is None or now > deadline:
            raise Conflict(
                f"An order can be cancelled within {window_days} days of placement only."
            )
        self.status = OrderStatus.CANCELLED
        self.cancelled_at = now
        self.cancel_reason = reason
        self.cancelled_by = by

    def licenses_to_resend(self) -> list[str]:
        if self.status == OrderStatus.CANCELLED:
            raise Conflict("This order is cancelled; its licenses were removed.")
        license_ids = self.affected_license_ids()
        if not license_ids:
            raise Conflict("This order's licenses have not been issued yet; try again shortly.")
        return license_ids

    def licenses_to_activate(self) -> list[str]:
        if self.status == OrderStatus.CANCELLED:
            raise Conflict("This order is cancelled.")
        return self.affected_license_ids()

    # -- what billing and license-assign report (guarded: a replay changes nothing) -------------

    def record_invoice(self, invoice_number: str, invoice_status: str) -> None:
        self.invoice_number = invoice_number
        if self.payment_status in SETTLED:
            return
        if invoice_status == "paid":
            self.record_capture()
        elif invoice_status == "applied":
            self.payment_status = PaymentStatus.CREDITED

    def record_capture(self) -> None:
        if self.payment_status not in SETTLED:
            self.payment_status = PaymentStatus.PAID
            self.payment_failure_reason = None

    def record_failure(self, reason: str) -> None:
        if self.payment_status not in (PaymentStatus.PAID, *SETTLED):
            self.payment_status = PaymentStatus.FAILED
            self.payment_failure_reason = reason

    def record_credit_note(self, credit_note_number: str, refunded: bool) -> None:
        """A credit note (after a cancellation): the order shows it, and whether money went back."""
        self.credit_note_number = credit_note_number
        if refunded:
            self.payment_status = PaymentStatus.REFUNDED
        elif self.payment_status != PaymentStatus.REFUNDED:
            self.payment_status = PaymentStatus.CREDITED
        self.payment_failure_reason = None


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    product: Mapped[str] = mapped_column(String(20))
    product_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer)
    term_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    fallback_eligible: Mapped[bool] = mapped_column(Boolean)
    team_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    team_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    subscription_pack: Mapped[str | None] = mapped_column(String(40), nullable=True)
    license_ids: Mapped[list] = mapped_column(JSON, default=list)
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderLicense(Base):
    """A license the order produced, as license-assign reported it."""

    __tablename__ = "order_licenses"
    __table_args__ = (UniqueConstraint("order_id", "license_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    license_id: Mapped[str] = mapped_column(String(40), index=True)
    product: Mapped[str] = mapped_column(String(20))

    order: Mapped[Order] = relationship(back_populates="licenses")


class IdempotencyKey(Base):
    """A placed request's key, the hash of its body and the answer it got, per caller scope."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    order_number: Mapped[str] = mapped_column(String(30))
    status_code: Mapped[int] = mapped_column(Integer)
    # The exact body first returned: a replay answers with it unchanged.
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


# Searches of one reseller's orders (GET /orders): its newest first, by day, and by the fields
# matched case-insensitively. Partial matches on customer names use a pg_trgm index on
# PostgreSQL (migration ``a7c3e5f10b21``).
Index(
    "ix_orders_reseller_id_id",
    Order.reseller_id,
    Order.id,
    postgresql_include=["customer_name"],  # page(keys_first=True) filters on it in the index
)
Index("ix_orders_reseller_id_placed_at", Order.reseller_id, Order.placed_at)
Index("ix_orders_lower_number", func.lower(Order.number))
Index("ix_orders_lower_po_number", func.lower(Order.po_number))
Index("ix_orders_lower_customer_email", func.lower(Order.customer_email))
Index("ix_orders_lower_end_user_email", func.lower(Order.end_user_email))
Index("ix_orders_lower_source_reference", func.lower(Order.source_reference))
