"""Settings of the orders service."""

from dataclasses import dataclass

from portal_runtime.config import Config


@dataclass
class OrdersConfig(Config):
    # How long an Idempotency-Key is remembered (the API promises at least 24 hours).
    idempotency_hours: int = 48
    # Within this many days of placement an order may still be cancelled.
    cancel_window_days: int = 7
    # The portal's address, for the order link in the buyer's confirmation email.
    portal_base_url: str = "http://127.0.0.1:8080"
