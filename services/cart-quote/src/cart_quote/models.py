"""What cart-quote stores: its copy of prices and discounts, carts, and quotes."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from portal_runtime.db import Money, UTCDateTime, messaging_models, utcnow
from portal_runtime.errors import Conflict


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)


# -- the catalog's facts, kept from its events ---------------------------------------------------


class CatalogProduct(Base):
    __tablename__ = "catalog_products"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    includes: Mapped[list] = mapped_column(JSON, default=list)


class CatalogPrice(Base):
    """A list price as the catalog last published it."""

    __tablename__ = "catalog_prices"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    product: Mapped[str] = mapped_column(String(20), primary_key=True)
    term_years: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money())


class PriceListVersion(Base):
    """When the price book of a currency we hold took effect: older books are ignored."""

    __tablename__ = "price_list_versions"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    effective_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PartnerDiscount(Base):
    __tablename__ = "partner_discounts"

    reseller_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    percent: Mapped[Decimal] = mapped_column(Money())
    effective_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# -- carts ---------------------------------------------------------------------------------------


class CartStatus(enum.StrEnum):
    """A cart is open until an order or a quote takes its lines, or it idles out."""

    OPEN = "open"
    ORDERED = "ordered"
    QUOTED = "quoted"
    EXPIRED = "expired"


class Cart(Base):
    """One buyer's (tenant's) cart for one customer account."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(80), index=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    # "<tenant>|<customer_id>" while open, NULL afterwards: at most one open cart per pair.
    open_slot: Mapped[str | None] = mapped_column(String(130), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=CartStatus.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The order or quote that closed it.
    closed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", order_by="CartItem.id", cascade="all, delete-orphan"
    )

    def idle_since(self, now: dt.datetime, idle_days: int) -> bool:
        """Untouched for longer than ``idle_days``: expired, whether or not it is closed yet."""
        return self.updated_at < now - dt.timedelta(days=idle_days)

    def close(self, status: CartStatus, now: dt.datetime, closed_by: str | None = None) -> None:
        """Ordered, quoted or expired: the buyer's next cart for this customer starts empty."""
        self.status = status
        self.open_slot = None
        self.closed_at = now
        self.closed_by = closed_by


class CartItem(Base):
    __tablename__ = "cart_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    product: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)
    term_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # NULL for a new subscription: it starts on the day it is ordered.
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Set Custom (co-terming); NULL is the default end.
    co_term_end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # An upgrade ends with its licenses.
    fixed_end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    from_product: Mapped[str | None] = mapped_column(String(20), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    team_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    subscription_pack: Mapped[str | None] = mapped_column(String(40), nullable=True)
    license_ids: Mapped[list] = mapped_column(JSON, default=list)

    cart: Mapped[Cart] = relationship(back_populates="items")


# -- quotes --------------------------------------------------------------------------------------


class QuoteStatus(enum.StrEnum):
    """What is stored; ``expired`` is only ever read (an open quote past ``valid_until``)."""

    OPEN = "open"
    ORDERED = "ordered"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Quote(Base):
    """A cart's priced lines, frozen; or a direct quote the vendor issued to a customer."""

    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str | None] = mapped_column(String(30), unique=True, nullable=True)
    # reseller | customer (a customer admin's own) | direct (the vendor's, until claimed)
    kind: Mapped[str] = mapped_column(String(10))
    # Whose quote it is (``reseller:<id>`` / ``customer:<id>``); NULL for an unclaimed direct one.
    tenant: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    reseller_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    buyer: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    end_user: Mapped[dict] = mapped_column(JSON)
    end_user_email: Mapped[str] = mapped_column(String(254), index=True)
    billing_address: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    po_number: Mapped[str | None] = mapped_column(String(60), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    # Net sum of the lines and the tax on it (``[{rate, amount, note}]``); ``total`` is gross.
    # NULL on quotes issued before tax was computed (their total was net, with no tax).
    subtotal: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    tax: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # The seller as it was when the quote was issued.
    seller: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    total: Mapped[Decimal] = mapped_column(Money())
    # open | ordered | cancelled; "expired" is an open quote read past valid_until.
    status: Mapped[str] = mapped_column(String(10), default=QuoteStatus.OPEN)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ordered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    order_number: Mapped[str | None] = mapped_column(String(30), nullable=True)
    converted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", order_by="QuoteLine.line_no", cascade="all, delete-orphan"
    )

    def effective_status(self, today: dt.date) -> str:
        """``expired`` is an open quote read past its validity."""
        if self.status == QuoteStatus.OPEN and self.valid_until < today:
            return QuoteStatus.EXPIRED
        return self.status

    def cancel(self, now: dt.datetime) -> None:
        status = self.effective_status(now.date())
        if status != QuoteStatus.OPEN:
            raise Conflict(f"Only an open quote can be cancelled; this one is {status}.")
        self.status = QuoteStatus.CANCELLED
        self.cancelled_at = now

    def claim(self, reseller_id: str, buyer: dict, now: dt.datetime) -> None:
        """A direct quote becomes this reseller's (``quotes.claimable`` says whether it may)."""
        self.kind = "reseller"
        self.tenant = f"reseller:{reseller_id}"
        self.reseller_id = reseller_id
        self.buyer = buyer
        self.converted_at = now

    def mark_ordered(self, order_number: str, at: dt.datetime) -> None:
        """An order was placed from it; one cancelled a moment before its order still is one."""
        if self.status not in (QuoteStatus.OPEN, QuoteStatus.CANCELLED):
            return
        self.cancelled_at = None
        self.status = QuoteStatus.ORDERED
        self.ordered_at = at
        self.order_number = order_number


class QuoteLine(Base):
    __tablename__ = "quote_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    product: Mapped[str] = mapped_column(String(20))
    product_name: Mapped[str] = mapped_column(String(200))
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

    quote: Mapped[Quote] = relationship(back_populates="lines")


# Searches of one tenant's quotes (GET /quotes): newest first, by day, by email. Partial matches
# on numbers and customer names use pg_trgm indexes on PostgreSQL (migration ``b8d4f6a21c32``).
Index(
    "ix_quotes_tenant_id",
    Quote.tenant,
    Quote.id,
    postgresql_include=[
        "number",
        "customer_name",
    ],  # page(keys_first=True) filters on them in the index
)
Index("ix_quotes_tenant_issued_at", Quote.tenant, Quote.issued_at)
Index("ix_quotes_lower_customer_email", func.lower(Quote.customer_email))
Index("ix_quotes_lower_end_user_email", func.lower(Quote.end_user_email))
