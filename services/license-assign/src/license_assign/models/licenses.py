"""Licenses and what they belong to: teams, subscription packs, the orders that issued or
changed them, revocations, and the product releases their fallback versions come from."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from license_assign.models.base import Base
from portal_runtime.db import UTCDateTime, utcnow

ALL_PRODUCTS = "ALL"


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("customer_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Public id, ``T-<n>``; set right after the row has its key.
    team_id: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SubscriptionPack(Base):
    __tablename__ = "subscription_packs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # ``SP-<n>``; set right after the row has its key.
    number: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class License(Base):
    """One seat: a license id, its product and dates, and who holds it (if anyone)."""

    __tablename__ = "licenses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    license_id: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    team_pk: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    pack_pk: Mapped[int] = mapped_column(ForeignKey("subscription_packs.id"), index=True)
    product: Mapped[str] = mapped_column(String(20), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date, index=True)
    # Start of the current run of consecutive paid months (for the perpetual fallback right).
    paid_since: Mapped[dt.date] = mapped_column(Date)
    fallback_version: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # A downgrade within the year gives no fallback until this date is passed by a renewal.
    no_fallback_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # A downgrade takes effect at renewal: the product changes on this day.
    downgrade_to: Mapped[str | None] = mapped_column(String(20), nullable=True)
    downgrade_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # A failed payment: usable until this day, then suspended until paid.
    grace_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    # An order cancelled within its window removes the licenses it issued.
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    assignee_first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    assignee_last_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    assignee_email: Mapped[str | None] = mapped_column(String(254), nullable=True, index=True)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    activation_code: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    team: Mapped[Team] = relationship(lazy="joined", innerjoin=True)
    pack: Mapped[SubscriptionPack] = relationship(lazy="joined", innerjoin=True)

    @property
    def assignee(self) -> dict | None:
        if self.assignee_email is None:
            return None
        return {
            "first_name": self.assignee_first_name,
            "last_name": self.assignee_last_name,
            "email": self.assignee_email,
        }

    def status(self, today: dt.date) -> str:
        """``suspended``, ``expired``, ``assigned`` or ``available`` on ``today``."""
        if self.suspended:
            return "suspended"
        if self.valid_until < today:
            return "expired"
        return "assigned" if self.assignee_email else "available"


# Free seats of a product, in the order assignment takes them (latest end date first): taking a
# batch of them reads only free seats, however many are already held.
FREE = text("assignee_email IS NULL AND removed_at IS NULL")
Index(
    "ix_licenses_free_seats",
    License.customer_id,
    License.product,
    License.valid_until.desc(),
    License.id,
    postgresql_where=FREE,
    sqlite_where=FREE,
)
# An account's licenses in key order (the licenses list and the report), and its people by email.
Index("ix_licenses_customer_id_id", License.customer_id, License.id)
Index("ix_licenses_customer_id_assignee_email", License.customer_id, License.assignee_email)


class OrderRecord(Base):
    """An order this service has handled (``orders.order.placed``): the replay guard."""

    __tablename__ = "order_records"

    order_number: Mapped[str] = mapped_column(String(30), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    po_number: Mapped[str | None] = mapped_column(String(60), nullable=True, index=True)
    # The reseller that placed it (the event's buyer); None when the customer bought itself, and
    # for orders recorded before this was kept. A reseller sees only its own orders' numbers.
    reseller_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EarlyPaymentNotice(Base):
    """A payment failure billing reported for an order whose licenses are not issued yet.

    Billing and license-assign both consume ``orders.order.placed``; billing's
    ``billing.payment.failed`` can reach this service first. The notice waits here and is applied
    to the licenses when the order arrives; a later ``captured`` removes it.
    """

    __tablename__ = "early_payment_notices"

    order_number: Mapped[str] = mapped_column(String(30), primary_key=True)
    grace_until: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LicenseOrder(Base):
    """Which order line issued, renewed or changed a license; and what it was before."""

    __tablename__ = "license_orders"
    __table_args__ = (UniqueConstraint("license_pk", "order_number", "line_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    license_pk: Mapped[int] = mapped_column(ForeignKey("licenses.id"), index=True)
    order_number: Mapped[str] = mapped_column(ForeignKey("order_records.order_number"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    po_number: Mapped[str | None] = mapped_column(String(60), nullable=True, index=True)
    # For renewal/upgrade/downgrade lines: the license as it was, so a cancellation can undo.
    previous_valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    previous_product: Mapped[str | None] = mapped_column(String(20), nullable=True)

    license: Mapped[License] = relationship()


class Revocation(Base):
    """A revocation of an assigned license (the monthly cap counts these)."""

    __tablename__ = "revocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    license_id: Mapped[str] = mapped_column(String(40))
    former_email: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(20))
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class ProductVersion(Base):
    """A product release; the fallback version is the one current at a period's start."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[str] = mapped_column(String(20))
    released_on: Mapped[dt.date] = mapped_column(Date)
