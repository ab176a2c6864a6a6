"""Cart-quote's own copy of the catalog's prices and partner discounts, as pricing reads it.

The copy is filled from ``catalog.price_list.published`` and ``catalog.partner_discount.changed``;
pricing a line never calls the catalog. Each process keeps the prices and product names it read
from its database for as long as the version of every currency's book stays the same: pricing a
cart or an order reads those versions (a few rows), not the whole book, each time.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from cart_quote.models import CatalogPrice, CatalogProduct, PartnerDiscount, PriceListVersion
from cart_quote.pricing import PriceUnknown
from portal_runtime.identity import Identity


class PriceListMissing(LookupError):
    """The catalog's book of this currency has not reached cart-quote yet (a 503 with
    Retry-After: it will, shortly)."""

    def __init__(self, currency: str):
        super().__init__(
            f"The {currency} price list has not reached this service yet; try again shortly."
        )
        self.currency = currency


@dataclass(frozen=True)
class CatalogCopy:
    """What one database holds of the catalog, as of ``versions`` (currency, effective_at)."""

    versions: tuple[tuple[str, dt.datetime], ...]
    # currency -> (product, term_years, kind) -> list price
    prices: dict[str, dict[tuple[str, int, str], Decimal]]
    names: dict[str, str]


# The copy last read from each database (tests run several services' databases in one process),
# by its pool: the service's engine and its reader (pricing's) share one, and so one copy.
_held: weakref.WeakKeyDictionary[Pool, CatalogCopy] = weakref.WeakKeyDictionary()


_VERSIONS, _DISCOUNTS = PriceListVersion.__table__, PartnerDiscount.__table__
# What every pricing reads, built once (building them cost more than their round trips).
VERSIONS = select(_VERSIONS.c.currency, _VERSIONS.c.effective_at).order_by(_VERSIONS.c.currency)
DISCOUNT = select(_DISCOUNTS.c.percent).where(_DISCOUNTS.c.reseller_id == bindparam("reseller_id"))


def catalog_copy(session: Session) -> CatalogCopy:
    """The catalog as this session's database holds it: read again only when a book's version
    changed (a price list replaces its currency's whole book and bumps its version)."""
    versions = tuple(tuple(row) for row in session.execute(VERSIONS))
    pool = session.get_bind().pool
    held = _held.get(pool)
    if held is not None and held.versions == versions:
        return held
    prices: dict[str, dict[tuple[str, int, str], Decimal]] = {}
    for currency, product, term_years, kind, amount in session.execute(
        select(
            CatalogPrice.currency,
            CatalogPrice.product,
            CatalogPrice.term_years,
            CatalogPrice.kind,
            CatalogPrice.amount,
        )
    ):
        prices.setdefault(currency, {})[(product, term_years, kind)] = amount
    names = dict(session.execute(select(CatalogProduct.code, CatalogProduct.name)).all())
    held = CatalogCopy(versions, prices, names)
    _held[pool] = held
    return held


class PriceBook:
    """List prices of one currency and the discount of one buyer."""

    def __init__(self, catalog: CatalogCopy, currency: str, percent: Decimal):
        self.currency = currency
        self.percent = percent
        self._prices = catalog.prices.get(currency, {})
        self._names = catalog.names
        self._priced = {key[0] for key in self._prices}

    def list_price(self, product: str, term_years: int, kind: str) -> Decimal:
        try:
            return self._prices[(product, term_years, kind)]
        except KeyError:
            raise PriceUnknown(product, term_years, kind)

    def knows(self, product: str | None) -> bool:
        return product in self._priced

    def name(self, product: str) -> str:
        return self._names.get(product, product)


def currency_of(identity: Identity, default: str) -> str:
    return (identity.currency or default).upper()


def discount_of(session: Session, identity: Identity) -> Decimal:
    """A reseller buys at list less its partner discount; a customer buying directly at list."""
    if identity.is_reseller and identity.reseller_id:
        percent = session.scalar(DISCOUNT, {"reseller_id": identity.reseller_id})
        if percent is not None:
            return percent
    return Decimal("0")


def book_for(session: Session, identity: Identity, default_currency: str) -> PriceBook:
    currency = currency_of(identity, default_currency)
    catalog = catalog_copy(session)
    if currency not in dict(catalog.versions):
        raise PriceListMissing(currency)
    return PriceBook(catalog, currency, discount_of(session, identity))
