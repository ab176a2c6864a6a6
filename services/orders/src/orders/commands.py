"""What a caller asks orders to do: one frozen dataclass per request, handled in ``handlers``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from orders.idempotency import Claim
from portal_runtime.identity import Identity


@dataclass(frozen=True)
class PlaceOrder:
    """An order as cart-quote priced it (``placement`` builds it from a cart, a quote or lines)."""

    buyer: dict
    customer: dict
    end_user: dict
    currency: str
    lines: list[dict]
    payment_kind: str
    payment_method_id: str | None = None
    po_number: str | None = None
    send_activation_email: bool = False
    source_kind: str = "direct"
    source_reference: str | None = None
    # One order per cart or quote (``placement.cart_key``); None for direct orders.
    source_key: str | None = None
    billing_address: dict | None = None
    placed_at: dt.datetime | None = None
    # The tax cart-quote computed on the lines for the billing address: [{rate, amount, note}].
    tax: list[dict] = field(default_factory=list)
    # The request's Idempotency-Key: its answer is stored with the order, in its transaction.
    idempotency: Claim | None = None

    @property
    def subtotal(self) -> Decimal:
        return sum((Decimal(line["amount"]) for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        """The gross amount charged: the net lines plus their tax."""
        return self.subtotal + sum((Decimal(t["amount"]) for t in self.tax), Decimal("0.00"))


@dataclass(frozen=True)
class CancelOrder:
    """Cancel one of ``by``'s orders within the window after placement."""

    number: str
    by: Identity
    reason: str | None = None


@dataclass(frozen=True)
class ResendLicenses:
    """Email an order's licenses again (notifications sends them)."""

    number: str
    by: Identity


@dataclass(frozen=True)
class RequestActivationEmail:
    """Send the order's customer its activation e-mail (notifications sends it)."""

    number: str
    by: Identity
