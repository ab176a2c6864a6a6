"""What a caller pays: list price less its partner discount, half-up to cents.

cart-quote rounds the same way (its ``pricing.discounted``), so a product costs in the cart what
the catalog shows.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from catalog.models import Product

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def discounted(amount: Decimal, percent: Decimal) -> Decimal:
    """List price less a discount in percent, half-up to cents."""
    return (amount * (HUNDRED - percent) / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def prices_for(product: Product, currency: str, percent: Decimal) -> list[dict]:
    """The product's prices in ``currency`` for a buyer with ``percent`` off, by term and kind."""
    return [
        {
            "term_years": p.term_years,
            "kind": p.kind,
            "amount": discounted(p.amount, percent),
            "currency": currency,
        }
        for p in sorted(product.prices, key=lambda p: (p.term_years, p.kind))
        if p.currency == currency
    ]
