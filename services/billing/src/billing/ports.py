"""What billing needs outside: the payment provider (a card/PayPal processor and vault).

Its one adapter is the local sandbox (``billing.sandbox``, with its own store and pages in
``billing.sandbox_api``: too big to sit here); a real provider's adapter would implement the
same methods. Every charge and refund carries an idempotency key the provider
honours, so a retried or redelivered handler never charges twice, and the provider can be asked
by key what it did (``find_charge``), so an attempt left unknown by a crash can be settled.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    reference: str
    # Why it was declined (e.g. ``card_declined``); None when approved.
    reason: str | None = None


@dataclass(frozen=True)
class CardDetails:
    """What the vault lets us keep about a card: never its number or CVC."""

    brand: str
    last4: str
    expiry: str
    holder: str


@dataclass(frozen=True)
class PayPalApproval:
    approval_token: str
    redirect_url: str


class PaymentProvider(Protocol):
    def card(self, vault_token: str, tenant: str) -> CardDetails | None:
        """The stored card behind a token the tenant created, or None."""

    def charge(
        self, source_kind: str, source_token: str, amount: Decimal, currency: str, key: str
    ) -> ChargeResult: ...

    def find_charge(self, key: str) -> ChargeResult | None:
        """What the provider did under this idempotency key; None if it never received it."""

    def refund(self, charge_reference: str, amount: Decimal, currency: str, key: str) -> str: ...

    def start_paypal(self, tenant: str) -> PayPalApproval: ...

    def paypal_agreement(self, approval_token: str) -> tuple[str, str] | None:
        """``(agreement_id, payer_email)`` once the payer has approved, else None."""
