"""How products look to a caller: list prices less the caller's partner discount."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from catalog.models import Product
from portal_contracts.api.products import ProductSchema

PRODUCT = ProductSchema()
CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def discounted(amount: Decimal, percent: Decimal) -> Decimal:
    """List price less a discount in percent, half-up to cents (cart-quote rounds the same way)."""
    return (amount * (HUNDRED - percent) / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def product_view(product: Product, currency: str, percent: Decimal) -> dict:
    prices = [
        {
            "term_years": p.term_years,
            "kind": p.kind,
            "amount": discounted(p.amount, percent),
            "currency": currency,
        }
        for p in sorted(product.prices, key=lambda p: (p.term_years, p.kind))
        if p.currency == currency
    ]
    return PRODUCT.dump(
        {
            "code": product.code,
            "name": product.name,
            "includes": list(product.includes or []),
            "prices": prices,
        }
    )
