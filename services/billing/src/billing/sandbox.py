"""The local payment sandbox: a vault, a card processor and PayPal's approval, in one adapter.

It stands in for the real provider and keeps its own store (never billing's database). The vault
turns a card into a token and keeps only token -> brand, last four digits, expiry, holder and the
behaviour of the provider's published test numbers; the number and CVC are checked and dropped.
Charges and refunds are keyed by the caller's idempotency key: the same key gets the same answer.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from decimal import Decimal

from sqlalchemy import Integer, String, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from billing.ports import CardDetails, ChargeResult, PayPalApproval
from portal_contracts.demo import DECLINED_CARD, SUCCESS_CARD
from portal_runtime.clock import Clock
from portal_runtime.db import (
    Money,
    PerDialect,
    UTCDateTime,
    make_engine,
    session_factory,
    utcnow,
)

# The provider's published test numbers and how they behave; any other valid number succeeds.
TEST_CARDS = {
    SUCCESS_CARD: "approve",
    "5555555555554444": "approve",
    DECLINED_CARD: "decline:card_declined",
    "4000000000009995": "decline:insufficient_funds",
}


class SandboxBase(DeclarativeBase):
    pass


class VaultCard(SandboxBase):
    __tablename__ = "sandbox_vault_cards"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(60))
    brand: Mapped[str] = mapped_column(String(20))
    last4: Mapped[str] = mapped_column(String(4))
    expiry: Mapped[str] = mapped_column(String(5))
    holder: Mapped[str] = mapped_column(String(100))
    behaviour: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SandboxCharge(SandboxBase):
    __tablename__ = "sandbox_charges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    source_kind: Mapped[str] = mapped_column(String(10))
    source_token: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


CHARGES = SandboxCharge.__table__
# A charge recorded unless its key has one, built once per database kind.
RECORD_CHARGE = PerDialect(
    lambda insert: (
        insert(CHARGES)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(CHARGES.c.id)
    )
)


class SandboxRefund(SandboxBase):
    __tablename__ = "sandbox_refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    charge_reference: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PayPalAgreement(SandboxBase):
    __tablename__ = "sandbox_paypal_agreements"

    approval_token: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(60))
    # pending | approved
    status: Mapped[str] = mapped_column(String(10))
    agreement_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    payer_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VaultSession(SandboxBase):
    """A visit to the vault's own card page: whose card it will be and where it goes back."""

    __tablename__ = "sandbox_vault_sessions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(60))
    return_url: Mapped[str] = mapped_column(String(2000))
    # open | used
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# How long the vault's card page stays usable after the portal opened it.
VAULT_SESSION_MINUTES = 30


class CardRejected(ValueError):
    """The vault refused a card; ``errors`` names the fields, never echoing their values."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("card rejected")
        self.errors = errors


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def brand_of(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return "mastercard"
    if digits.startswith(("6011", "65")):
        return "discover"
    return "card"


def parse_expiry(text: str, today: dt.date) -> str | None:
    """``MM/YY`` or ``YYYY-MM`` -> ``MM/YY``; None when malformed or already past."""
    text = text.strip()
    if m := re.fullmatch(r"(\d{2})/(\d{2})", text):
        month, year = int(m.group(1)), 2000 + int(m.group(2))
    elif m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, month = int(m.group(1)), int(m.group(2))
    else:
        return None
    if not 1 <= month <= 12 or (year, month) < (today.year, today.month):
        return None
    return f"{month:02d}/{year % 100:02d}"


class Sandbox:
    """The default ``PaymentProvider`` adapter, plus the vault and PayPal pages it serves."""

    def __init__(self, database_url: str, portal_base_url: str, clock: Clock | None = None):
        self.engine = make_engine(database_url)
        self.sessions = session_factory(self.engine)
        self.portal_base_url = portal_base_url.rstrip("/")
        self.clock = clock or Clock()
        # The sandbox is a stand-in for an outside system: it sets up its own tables. Web and
        # worker may start at once; the loser of a creation race finds the tables made.
        try:
            SandboxBase.metadata.create_all(self.engine)
        except DBAPIError:
            SandboxBase.metadata.create_all(self.engine)

    # -- the vault ----------------------------------------------------------------------------

    def vault_card(self, tenant: str, number: str, expiry: str, cvc: str, holder: str) -> str:
        digits = re.sub(r"[ -]", "", number)
        errors: dict[str, list[str]] = {}
        if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
            errors["number"] = ["Not a valid card number."]
        normalized = parse_expiry(expiry, self.clock.today())
        if normalized is None:
            errors["expiry"] = ["Not a valid expiry (MM/YY or YYYY-MM, not in the past)."]
        brand = brand_of(digits) if "number" not in errors else None
        cvc_len = 4 if brand == "amex" else 3
        if not cvc.isdigit() or len(cvc) != cvc_len:
            errors["cvc"] = [f"Must be {cvc_len} digits."]
        if not holder.strip():
            errors["holder"] = ["Required."]
        if errors:
            raise CardRejected(errors)
        token = "vt_" + secrets.token_urlsafe(24)
        with self.sessions() as session, session.begin():
            session.add(
                VaultCard(
                    token=token,
                    tenant=tenant,
                    brand=brand,
                    last4=digits[-4:],
                    expiry=normalized,
                    holder=holder.strip()[:100],
                    behaviour=TEST_CARDS.get(digits, "approve"),
                )
            )
        return token

    def start_card_session(self, tenant: str, return_url: str) -> tuple[str, str]:
        """The vault's own card page for ``tenant``: ``(session, url)``. The card number is typed
        there, so it never passes through the portal's pages."""
        token = "vs_" + secrets.token_urlsafe(24)
        with self.sessions() as session, session.begin():
            session.add(
                VaultSession(
                    token=token,
                    tenant=tenant,
                    return_url=return_url,
                    status="open",
                    created_at=self.clock.now(),
                )
            )
        return token, f"{self.portal_base_url}/api/v1/sandbox/vault/card?session={token}"

    def card_session(self, token: str) -> VaultSession | None:
        """An open, unexpired card page session, or None."""
        with self.sessions() as session:
            row = session.get(VaultSession, token)
            if row is None or row.status != "open":
                return None
            created = row.created_at
            if created.tzinfo is None:
                created = created.replace(tzinfo=dt.UTC)
            if self.clock.now() - created > dt.timedelta(minutes=VAULT_SESSION_MINUTES):
                return None
            session.expunge(row)
            return row

    def complete_card_session(
        self, token: str, number: str, expiry: str, cvc: str, holder: str
    ) -> tuple[str, str] | None:
        """Vault the card typed on the page: ``(vault_token, return_url)``; None if the session
        is unknown, used or expired. Raises ``CardRejected`` for a card it refuses."""
        row = self.card_session(token)
        if row is None:
            return None
        vault_token = self.vault_card(row.tenant, number, expiry, cvc, holder)
        with self.sessions() as session, session.begin():
            live = session.get(VaultSession, token)
            if live is None or live.status != "open":
                return None
            live.status = "used"
        return vault_token, row.return_url

    def card(self, vault_token: str, tenant: str) -> CardDetails | None:
        with self.sessions() as session:
            row = session.get(VaultCard, vault_token)
            if row is None or row.tenant != tenant:
                return None
            return CardDetails(
                brand=row.brand, last4=row.last4, expiry=row.expiry, holder=row.holder
            )

    # -- charges and refunds ------------------------------------------------------------------

    def charge(
        self, source_kind: str, source_token: str, amount: Decimal, currency: str, key: str
    ) -> ChargeResult:
        """Take a charge once per idempotency key: the decision and its record in one
        transaction. The record is inserted unless the key has one (a repeated call, or a
        concurrent one that recorded first: the insert waits for it), which is then the answer;
        a new key, the usual case, costs no look-up of its own."""
        reference = "ch_" + secrets.token_hex(10)
        with self.sessions() as session, session.begin():
            outcome, reason = self._judge(session, source_kind, source_token)
            recorded = session.execute(
                RECORD_CHARGE(session.get_bind()),
                {
                    "idempotency_key": key,
                    "reference": reference,
                    "source_kind": source_kind,
                    "source_token": source_token,
                    "amount": amount,
                    "currency": currency,
                    "outcome": outcome,
                    "reason": reason,
                    "created_at": utcnow(),
                },
            ).scalar()
            if recorded is None:
                return self._charge_by_key(session, key)
        return ChargeResult(approved=outcome == "approved", reference=reference, reason=reason)

    def _judge(self, session, source_kind: str, source_token: str) -> tuple[str, str | None]:
        """The outcome a charge to this source gets, and why it is declined."""
        if source_kind == "card":
            card = session.get(VaultCard, source_token)
            if card is None:
                return "declined", "unknown_card"
            if card.behaviour.startswith("decline:"):
                return "declined", card.behaviour.split(":", 1)[1]
            if card.expiry and parse_expiry(card.expiry, self.clock.today()) is None:
                return "declined", "expired_card"
            return "approved", None
        agreement = session.scalar(
            select(PayPalAgreement).where(PayPalAgreement.agreement_id == source_token)
        )
        if agreement is None or agreement.status != "approved":
            return "declined", "paypal_not_approved"
        return "approved", None

    @staticmethod
    def _charge_by_key(session, key: str) -> ChargeResult | None:
        row = session.scalar(select(SandboxCharge).where(SandboxCharge.idempotency_key == key))
        if row is None:
            return None
        return ChargeResult(
            approved=row.outcome == "approved", reference=row.reference, reason=row.reason
        )

    def find_charge(self, key: str) -> ChargeResult | None:
        """The charge taken under this idempotency key, or None if none was."""
        with self.sessions() as session:
            return self._charge_by_key(session, key)

    def charges(self) -> int:
        """How many distinct charges the sandbox has taken (tests)."""
        with self.sessions() as session:
            return len(list(session.scalars(select(SandboxCharge.id))))

    def refund(self, charge_reference: str, amount: Decimal, currency: str, key: str) -> str:
        with self.sessions() as session:
            row = session.scalar(select(SandboxRefund).where(SandboxRefund.idempotency_key == key))
            if row is not None:
                return row.reference
        try:
            with self.sessions() as session, session.begin():
                session.add(
                    SandboxRefund(
                        idempotency_key=key,
                        reference="re_" + secrets.token_hex(10),
                        charge_reference=charge_reference,
                        amount=amount,
                        currency=currency,
                    )
                )
        except IntegrityError:
            pass
        with self.sessions() as session:
            return session.scalar(
                select(SandboxRefund.reference).where(SandboxRefund.idempotency_key == key)
            )

    # -- PayPal -------------------------------------------------------------------------------

    def start_paypal(self, tenant: str) -> PayPalApproval:
        token = "pp_" + secrets.token_urlsafe(18)
        with self.sessions() as session, session.begin():
            session.add(PayPalAgreement(approval_token=token, tenant=tenant, status="pending"))
        return PayPalApproval(
            approval_token=token,
            redirect_url=f"{self.portal_base_url}/api/v1/sandbox/paypal/approve?token={token}",
        )

    def pending_paypal(self, approval_token: str) -> bool:
        with self.sessions() as session:
            row = session.get(PayPalAgreement, approval_token)
            return row is not None

    def approve_paypal(self, approval_token: str) -> tuple[str, str] | None:
        """The payer approves (idempotent): ``(agreement_id, payer_email)``, None if unknown."""
        with self.sessions() as session, session.begin():
            row = session.get(PayPalAgreement, approval_token)
            if row is None:
                return None
            if row.status != "approved":
                row.status = "approved"
                row.agreement_id = "B-" + secrets.token_hex(8).upper()
                row.payer_email = f"buyer-{secrets.token_hex(3)}@sandbox.paypal.example"
            return row.agreement_id, row.payer_email

    def paypal_agreement(self, approval_token: str) -> tuple[str, str] | None:
        with self.sessions() as session:
            row = session.get(PayPalAgreement, approval_token)
            if row is None or row.status != "approved":
                return None
            return row.agreement_id, row.payer_email
