"""What callers of billing ask for (its HTTP API): one frozen dataclass each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PayInvoice:
    invoice_number: str
    tenant: str | None  # None: a service identity, which sees every invoice
    payment_method_id: str


@dataclass(frozen=True)
class AddCard:
    """Store a card the tenant vaulted (``vault_token``) as one of its payment methods."""

    tenant: str
    vault_token: str
    method_id: str | None = None  # None: a new id


@dataclass(frozen=True)
class StartPayPal:
    """A PayPal method awaiting the payer's approval, who then goes back to ``return_url``."""

    tenant: str
    return_url: str


@dataclass(frozen=True)
class CompletePayPal:
    """PayPal's return callback: the payer approved (or not) ``approval_token``."""

    approval_token: str


@dataclass(frozen=True)
class RemovePaymentMethod:
    tenant: str
    method_id: str
