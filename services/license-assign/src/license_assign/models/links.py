"""E-mailed and shared links: invitation links (their claims, their replaced tokens) and My
licenses links. Only a token's SHA-256 is stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from license_assign.models.base import Base
from license_assign.models.licenses import Team
from portal_runtime.db import UTCDateTime, utcnow


class InvitationLink(Base):
    """A URL anyone may use to claim a free license of a product in a team."""

    __tablename__ = "invitation_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    link_id: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    team_pk: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    product: Mapped[str] = mapped_column(String(20))
    # Only the SHA-256 of the token is kept: a database leak gives no working URL.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    allowed_domains: Mapped[str | None] = mapped_column(Text, nullable=True)  # comma-separated
    max_claims: Mapped[int | None] = mapped_column(Integer, nullable=True)
    claims_count: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    regenerated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    team: Mapped[Team] = relationship(lazy="joined", innerjoin=True)

    @property
    def domains(self) -> list[str]:
        return [d for d in (self.allowed_domains or "").split(",") if d]


class ReplacedInvitationToken(Base):
    """A link's former URL (its token's hash), kept after ``Regenerate`` so that the old URL says
    it was replaced (410) rather than that it never existed."""

    __tablename__ = "replaced_invitation_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    link_pk: Mapped[int] = mapped_column(ForeignKey("invitation_links.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    replaced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class InvitationClaim(Base):
    """One person's claim through a link: each person claims once per link."""

    __tablename__ = "invitation_claims"
    __table_args__ = (UniqueConstraint("link_pk", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    link_pk: Mapped[int] = mapped_column(ForeignKey("invitation_links.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    license_id: Mapped[str] = mapped_column(String(40))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HolderLink(Base):
    """A single-use, expiring link to a license holder's own page ("My licenses"), bound to an
    email: sent on request and in every assignment e-mail. Only its hash is kept."""

    __tablename__ = "holder_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Stored lower-case, as licenses' assignee emails are.
    email: Mapped[str] = mapped_column(String(254), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
