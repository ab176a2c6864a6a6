"""Settings of the catalog service: the shared ones and its own, read from the environment once."""

from __future__ import annotations

from dataclasses import dataclass

from catalog import SERVICE
from portal_runtime.config import Config


@dataclass
class CatalogConfig(Config):
    # The currency shown to a caller whose identity names none.
    default_currency: str = "USD"


def config_from_env() -> CatalogConfig:
    """The shared settings (``CATALOG_DATABASE_URL``, ``BROKER_URL``, ...); catalog reads no
    variable of its own."""
    return CatalogConfig.from_env(SERVICE)
