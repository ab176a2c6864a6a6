"""Payloads of the events the catalog publishes (``catalog.*``, as cart-quote keeps them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from catalog.models import PartnerDiscount, Product


def price_list_published(products: Iterable[Product], currency: str, at: dt.datetime) -> dict:
    """``catalog.price_list.published``: the whole book of one currency (products priced in it)."""
    items = []
    for product in products:
        prices = [
            {"term_years": p.term_years, "kind": p.kind, "amount": p.amount}
            for p in product.prices
            if p.currency == currency
        ]
        if prices:
            items.append(
                {
                    "code": product.code,
                    "name": product.name,
                    "includes": list(product.includes or []),
                    "prices": prices,
                }
            )
    return {"currency": currency, "effective_at": at, "products": items}


def partner_discount_changed(discount: PartnerDiscount) -> dict:
    """``catalog.partner_discount.changed``."""
    return {
        "reseller_id": discount.reseller_id,
        "percent": discount.percent,
        "effective_at": discount.updated_at,
    }
