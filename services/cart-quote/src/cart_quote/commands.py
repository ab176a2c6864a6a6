"""What a caller may ask of cart-quote: one frozen dataclass per request that changes something.

``buyer`` / ``caller`` is the verified identity the request came with (its tenant owns the cart or
quote); a request's fields are as its contract schema loaded them.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal_runtime.identity import Identity


@dataclass(frozen=True)
class AddCartLines:
    """Add checked lines (``CartItemRequest`` shapes) to the buyer's cart, opened if need be."""

    buyer: Identity
    customer_id: str
    lines: tuple[dict, ...]


@dataclass(frozen=True)
class UpdateCartItem:
    """Change a cart line; ``changes`` holds only the fields the request named
    (``CartItemUpdateRequest``: ``end_date: None`` is Set Default)."""

    buyer: Identity
    customer_id: str
    item_id: int
    changes: dict


@dataclass(frozen=True)
class RemoveCartItem:
    buyer: Identity
    customer_id: str
    item_id: int


@dataclass(frozen=True)
class RenewOrder:
    """Renewal lines for an order's licenses, into the cart of that order's customer."""

    buyer: Identity
    order_number: str


@dataclass(frozen=True)
class CopyOrder:
    """An order's new-subscription lines again, into the cart of that order's customer."""

    buyer: Identity
    order_number: str


@dataclass(frozen=True)
class IssueQuote:
    """Get Quote: the cart's lines, priced now, frozen into a numbered quote; the cart closes."""

    buyer: Identity
    customer_id: str
    end_user: dict
    billing_address: dict
    po_number: str | None = None


@dataclass(frozen=True)
class CancelQuote:
    caller: Identity
    quote_number: str


@dataclass(frozen=True)
class ClaimQuote:
    """A reseller takes a direct quote by its number and its licensee's email."""

    caller: Identity
    quote_number: str
    email: str
    reseller_id: str
    reseller_name: str | None = None
