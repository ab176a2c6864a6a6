"""What the gateway stores: resellers, portal users, customer-access grants, attempt counters."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from portal_runtime.db import UTCDateTime, messaging_models, utcnow


def first_token_version() -> int:
    return secrets.randbelow(2**31 - 1)


class Base(DeclarativeBase):
    pass


# The gateway publishes no events, but every service database has the same messaging tables.
MESSAGING = messaging_models(Base)


class Reseller(Base):
    __tablename__ = "resellers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str] = mapped_column(String(2))
    billing_address: Mapped[dict] = mapped_column(JSON, default=dict)


class PortalUser(Base):
    """A reseller's user (roles) or a customer's admin (its own account)."""

    __tablename__ = "portal_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))  # reseller_user | customer_admin
    reseller_id: Mapped[str | None] = mapped_column(
        ForeignKey("resellers.id"), nullable=True, index=True
    )
    customer_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    roles: Mapped[list] = mapped_column(JSON, default=list)
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Put in every bearer token; raised by a password change, a sign-out and disabling the user,
    # which ends every token issued before (``auth.authenticate`` compares it on each request).
    # It starts at random, so a removed user's tokens never match one that comes back.
    token_version: Mapped[int] = mapped_column(
        Integer, default=first_token_version, server_default="0"
    )
    invited_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    reseller: Mapped[Reseller | None] = relationship()


class AccessGrant(Base):
    """A reseller entered a customer: who, when, how, and until when it may act on it."""

    __tablename__ = "access_grants"
    __table_args__ = (Index("ix_access_grants_reseller_customer", "reseller_id", "customer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reseller_id: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str] = mapped_column(String(40))
    customer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    user_id: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(
        String(20)
    )  # customer_id | subscription_pack | email | quote
    reference: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class Attempt(Base):
    """One counted attempt under a rate-limit key; shared by every gateway worker."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
