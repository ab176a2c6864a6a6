"""Settings of the cart-quote service: every variable it reads, with its default."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cart_quote import SERVICE
from portal_runtime.config import Config
from portal_runtime.seller import Seller


@dataclass
class CartQuoteConfig(Config):
    # A cart nobody touched for this many days is expired: the next read starts a new one.
    cart_idle_days: int = 7
    # A quote is valid for this many days after it is issued.
    quote_valid_days: int = 30
    # The currency of a caller whose identity names none.
    default_currency: str = "USD"
    # Who sells (SELLER_* variables): printed on quotes; its country decides the VAT rules.
    seller: Seller = field(default_factory=Seller.from_env)


def config_from_env() -> CartQuoteConfig:
    """The shared settings (``CART_QUOTE_DATABASE_URL``, ...) and ``CART_IDLE_DAYS`` (7),
    ``QUOTE_VALID_DAYS`` (30)."""
    return CartQuoteConfig.from_env(
        SERVICE,
        cart_idle_days=int(os.environ.get("CART_IDLE_DAYS", "7")),
        quote_valid_days=int(os.environ.get("QUOTE_VALID_DAYS", "30")),
    )


def vat_rates_file() -> str | None:
    """``CART_QUOTE_VAT_RATES_FILE``: another VAT rates table (``tax.Rates``); none = the one
    shipped in ``data/vat_rates.csv``."""
    return os.environ.get("CART_QUOTE_VAT_RATES_FILE") or None
