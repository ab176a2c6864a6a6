"""Cart-quote's own copy of the catalog's prices and partner discounts, as pricing reads it.

The copy is filled from ``catalog.price_list.published`` and ``catalog.partner_discount.changed``;
pricing a line never calls the catalog.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

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


class PriceBook:
    """List prices of one currency and the discount of one buyer."""

    def __init__(self, session: Session, currency: str, percent: Decimal):
        self.currency = currency
        self.percent = percent
        rows = session.scalars(select(CatalogPrice).where(CatalogPrice.currency == currency))
        self._prices = {(r.product, r.term_years, r.kind): r.amount for r in rows}
        self._names = {p.code: p.name for p in session.scalars(select(CatalogProduct))}
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
        row = session.get(PartnerDiscount, identity.reseller_id)
        if row is not None:
            return row.percent
    return Decimal("0")


def book_for(session: Session, identity: Identity, default_currency: str) -> PriceBook:
    currency = currency_of(identity, default_currency)
    if session.get(PriceListVersion, currency) is None:
        raise PriceListMissing(currency)
    return PriceBook(session, currency, discount_of(session, identity))
