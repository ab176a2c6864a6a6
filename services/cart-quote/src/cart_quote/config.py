"""Settings of the cart-quote service."""

from dataclasses import dataclass

from portal_runtime.config import Config


@dataclass
class CartQuoteConfig(Config):
    # A cart nobody touched for this many days is expired: the next read starts a new one.
    cart_idle_days: int = 7
    # A quote is valid for this many days after it is issued.
    quote_valid_days: int = 30
    # The currency of a caller whose identity names none.
    default_currency: str = "USD"
