"""What the license-assign service stores: customer accounts and everything licensed to them."""

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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from portal_runtime.db import UTCDateTime, messaging_models, utcnow


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)

ALL_PRODUCTS = "ALL"


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
    status: Mapped[str] = mapped_column(String(10))  # pending | approved | declined
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)


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


class InvitationClaim(Base):
    """One person's claim through a link: each person claims once per link."""

    __tablename__ = "invitation_claims"
    __table_args__ = (UniqueConstraint("link_pk", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    link_pk: Mapped[int] = mapped_column(ForeignKey("invitation_links.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    license_id: Mapped[str] = mapped_column(String(40))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProductVersion(Base):
    """A product release; the fallback version is the one current at a period's start."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[str] = mapped_column(String(20))
    released_on: Mapped[dt.date] = mapped_column(Date)


class AssignmentJob(Base):
    """A big assignment upload (CSV or JSON list) the worker assigns in batches.

    The rows wait in ``people`` (JSON: ``[[row, {first_name, last_name, email}], ...]``);
    ``processed`` says how many of them are done, and each batch commits its assignments and its
    rows' outcomes with the new ``processed`` in one transaction: a worker that dies mid-job
    leaves it where the last batch ended, and the next run goes on from there.
    """

    __tablename__ = "assignment_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Public id, ``AJ-<n>``; set right after the row has its key.
    job_id: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    product: Mapped[str] = mapped_column(String(20))
    team_pk: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    # queued | running | done | failed
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    people: Mapped[str] = mapped_column(Text)
    total_rows: Mapped[int] = mapped_column(Integer)
    # Rows the upload itself rejected (bad email, missing name): failed before the job began.
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    # Rows of ``people`` handled so far (rows the upload itself rejected are not counted here).
    processed: Mapped[int] = mapped_column(Integer, default=0)
    assigned_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    team: Mapped[Team | None] = relationship()


class AssignmentJobRow(Base):
    """What happened to one row of a job: the assignment made (JSON), or why not."""

    __tablename__ = "assignment_job_rows"
    __table_args__ = (UniqueConstraint("job_pk", "row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_pk: Mapped[int] = mapped_column(ForeignKey("assignment_jobs.id"))
    row: Mapped[int] = mapped_column(Integer)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # The assignment as the synchronous route reports it (JSON), or None when it failed.
    assigned: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
