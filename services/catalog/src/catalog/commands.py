"""What a caller may ask of the catalog: change list prices and partner discounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class SetPrices:
    """Create or update a product's list prices in one currency (a new product needs a name)."""

    code: str
    currency: str
    # [{term_years, kind, amount}]; prices of this currency not named stay as they are.
    prices: list[dict]
    name: str | None = None
    includes: list[str] | None = None
    position: int | None = None
    # When the change takes effect; the service's clock when not given.
    at: dt.datetime | None = None
    # False when a caller sets several products and publishes the book once (the seed).
    publish: bool = True


@dataclass(frozen=True)
class PublishPriceList:
    """Publish the whole price book of one currency as it stands."""

    currency: str
    at: dt.datetime | None = None


@dataclass(frozen=True)
class SetPartnerDiscount:
    reseller_id: str
    percent: Decimal
    at: dt.datetime | None = None
