"""What the notifications service stores: the outgoing mail log, one row per message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.db import UTCDateTime, messaging_models, utcnow


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


class OutgoingMail(Base):
    """One email, rendered when its cause arrived and sent by the sender job.

    ``message_id`` is derived from (cause, template, recipient), and unique: a redelivered event
    finds its row and never makes a second one.
    """

    __tablename__ = "outgoing_mail"
    __table_args__ = (Index("ix_outgoing_mail_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(100), unique=True)
    cause_message_id: Mapped[str] = mapped_column(String(64), index=True)
    cause_type: Mapped[str] = mapped_column(String(120))
    correlation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    template: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    recipient_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sender: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # What to attach at send time, e.g. {"kind": "quote_pdf", "quote_number": "Q-…"}.
    attachment: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # pending | sent | failed
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the sender may (next) take the row (None: at once); pushed ahead while a sender has it.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ProductName(Base):
    """A product's display name, from the catalog's price lists, so emails say "PyCharm"."""

    __tablename__ = "product_names"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class KnownLicense(Base):
    """A license as licensing last reported it, so "resend licenses" can say what each one is."""

    __tablename__ = "known_licenses"

    license_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    order_number: Mapped[str | None] = mapped_column(String(30), nullable=True)
    product: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    fallback_version: Mapped[str | None] = mapped_column(String(20), nullable=True)
    subscription_pack: Mapped[str | None] = mapped_column(String(40), nullable=True)
