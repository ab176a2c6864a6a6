"""Settings of the orders service: every environment variable it reads, with its default."""

import os
from dataclasses import dataclass

from orders import SERVICE
from portal_runtime.config import Config


@dataclass
class OrdersConfig(Config):
    # How long an Idempotency-Key is remembered (the API promises at least 24 hours).
    idempotency_hours: int = 48
    # Within this many days of placement an order may still be cancelled.
    cancel_window_days: int = 7
    # The portal's address, for the order link in the buyer's confirmation email.
    portal_base_url: str = "http://127.0.0.1:8080"


def config_from_env() -> OrdersConfig:
    """``PORTAL_BASE_URL``, ``IDEMPOTENCY_HOURS``, ``ORDER_CANCEL_WINDOW_DAYS`` (and the shared
    settings ``Config.from_env`` reads)."""
    return OrdersConfig.from_env(
        SERVICE,
        portal_base_url=os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8080"),
        idempotency_hours=int(os.environ.get("IDEMPOTENCY_HOURS", "48")),
        cancel_window_days=int(os.environ.get("ORDER_CANCEL_WINDOW_DAYS", "7")),
    )
