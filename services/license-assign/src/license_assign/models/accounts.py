"""Customer accounts and their people: contacts, admins (and their password links), the
resellers that manage them, and resellers' requests to."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from license_assign.models.base import Base
from portal_runtime.db import UTCDateTime, utcnow
from portal_runtime.errors import Conflict


class Customer(Base):
    """A customer account (organisation), e.g. ``C-100001``."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set for accounts created in the portal (onboarding); None for those learnt from an order.
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    vat_id: Mapped[str | None] = mapped_column(String(30), nullable=True)
    created_by_reseller_id: Mapped[str | None] = mapped_column(String(40), nullable=True)

    people: Mapped[list[CustomerPerson]] = relationship(
        back_populates="customer", order_by="CustomerPerson.id", cascade="all, delete-orphan"
    )
    managing_resellers: Mapped[list[ManagingReseller]] = relationship(
        back_populates="customer", order_by="ManagingReseller.id", cascade="all, delete-orphan"
    )

    @property
    def contacts(self) -> list[str]:
        return [p.email for p in self.people if p.role == "contact"]

    @property
    def admin_emails(self) -> list[str]:
        return [p.email for p in self.people if p.role == "admin"]

    @property
    def admins(self) -> list[CustomerPerson]:
        return [p for p in self.people if p.role == "admin"]

    @property
    def email(self) -> str | None:
        contacts = self.contacts or self.admin_emails
        return contacts[0] if contacts else None

    def knows_email(self, email: str) -> bool:
        wanted = email.strip().lower()
        return any(p.email.lower() == wanted for p in self.people)


class CustomerPerson(Base):
    """An email that belongs to an account: a contact, or an admin (a customer admin)."""

    __tablename__ = "customer_people"
    __table_args__ = (UniqueConstraint("customer_id", "email", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    # Stored lower-case: emails are matched case-insensitively.
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[str] = mapped_column(String(10))  # contact | admin
    first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Admins: the id they sign in under at the gateway (``U-…``), once invited.
    user_id: Mapped[str | None] = mapped_column(String(40), unique=True, index=True, nullable=True)
    invited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the admin set a password (a link was used): ``active`` from then on.
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    customer: Mapped[Customer] = relationship(back_populates="people")

    @property
    def status(self) -> str:
        return "active" if self.activated_at else "invited"


class ManagingReseller(Base):
    """A reseller listed as an admin of the account: a managed account."""

    __tablename__ = "managing_resellers"
    __table_args__ = (UniqueConstraint("customer_id", "reseller_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    reseller_id: Mapped[str] = mapped_column(String(40), index=True)
    reseller_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    customer: Mapped[Customer] = relationship(back_populates="managing_resellers")


class PasswordLink(Base):
    """A single-use, expiring link an admin sets their password with (only its hash is kept)."""

    __tablename__ = "password_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_pk: Mapped[int] = mapped_column(ForeignKey("customer_people.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Used, or replaced by a newer link: either way it no longer works.
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replaced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    person: Mapped[CustomerPerson] = relationship(lazy="joined", innerjoin=True)


class RequestStatus(enum.StrEnum):
    """A request waits (``pending``) until an admin decides, or the reseller asks again."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    REPLACED = "replaced"  # the reseller asked again: a fresh link went out


class ManagementRequest(Base):
    """A reseller asked to manage an account; nothing changes until an admin approves."""

    __tablename__ = "management_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    reseller_id: Mapped[str] = mapped_column(String(40), index=True)
    reseller_name: Mapped[str] = mapped_column(String(200))
    requested_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    requested_by_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # RequestStatus
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)

    def decide(self, approve: bool, now: dt.datetime) -> None:
        """Approve or decline, once (``Conflict`` when decided already)."""
        if self.status != RequestStatus.PENDING:
            raise Conflict(f"This request has been {self.status} already.")
        self.status = RequestStatus.APPROVED if approve else RequestStatus.DECLINED
        self.decided_at = now
