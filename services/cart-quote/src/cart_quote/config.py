"""Settings of the cart-quote service."""

from dataclasses import dataclass, field

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
