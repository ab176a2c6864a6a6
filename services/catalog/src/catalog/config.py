"""Settings of the catalog service."""

from dataclasses import dataclass

from portal_runtime.config import Config


@dataclass
class CatalogConfig(Config):
    # The currency shown to a caller whose identity names none.
    default_currency: str = "USD"
