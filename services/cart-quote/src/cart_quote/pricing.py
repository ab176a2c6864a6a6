"""The pricing rules of cart and quote lines: pure functions over ``Decimal`` and dates.

- **Unit price** of a line = the list price of (product, term, kind) less the buyer's partner
  discount, half-up to cents (``discounted``). ``kind`` is ``new`` for new subscriptions and
  ``renewal`` for renewals and downgrades (the continuity price).
- **Default end** = start + term (1 or 2 years; 29 February becomes 28 February).
- **Co-terming** ("Set Custom"): a line whose end date is set to any other later date is priced by
  the day against the *yearly* price of its kind and term: ``round_half_up(yearly * days / 365)``
  per seat, where ``yearly`` is the discounted price of the line's term divided by its years and
  ``days`` the days from start to end. One seat at a yearly 100.00 co-termed to 84 days costs
  23.01.
- **Two-year terms and co-terming**: a two-year line keeps the vendor's multi-year rate when it is
  co-termed: at a two-year price of 180.00 its yearly rate is 90.00, so co-termed to 500 days it
  costs ``90 * 500 / 365`` per seat. A co-termed line therefore never costs more than the same line
  left at its default, longer, end; one co-termed to exactly its default end is not custom at all.
- **Upgrade** (a single product to the All Products Pack while the licenses are active) runs from
  today to the licenses' ``valid_until`` and costs the difference of the two yearly new-subscription
  prices for the remaining days: ``round_half_up((yearly_ALL - yearly_product) * days / 365)``
  per seat, never below zero.
- **Amount** = unit price x quantity (exact); a cart or quote **total** is the sum of line amounts.
- **Perpetual fallback**: ``fallback_eligible`` is false when the covered period is under a year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
DAYS_PER_YEAR = 365
TERMS = (1, 2)
ALL_PRODUCTS = "ALL"


class PriceUnknown(LookupError):
    """No list price for (product, term, kind) in the buyer's currency."""

    def __init__(self, product: str, term_years: int, kind: str):
        super().__init__(f"no {kind} price for {product}, {term_years} year(s)")
        self.product = product


def round_half_up(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def discounted(list_price: Decimal, percent: Decimal) -> Decimal:
    """List price less a partner discount in percent, half-up to cents."""
    return round_half_up(Decimal(list_price) * (HUNDRED - Decimal(percent)) / HUNDRED)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def default_end_date(start: dt.date, term_years: int) -> dt.date:
    return add_years(start, term_years)


def prorated(yearly: Decimal, days: int) -> Decimal:
    """A yearly price for ``days`` days, half-up to cents."""
    return round_half_up(Decimal(yearly) * days / DAYS_PER_YEAR)


def fallback_eligible(start: dt.date, end: dt.date) -> bool:
    """A perpetual fallback right needs at least one year of cover."""
    return end >= add_years(start, 1)


def price_kind(line_kind: str) -> str:
    """Which list price a line kind is charged at."""
    return "new" if line_kind in ("new", "upgrade") else "renewal"


# (product, term_years, kind) -> list price, or raise PriceUnknown
ListPrices = Callable[[str, int, str], Decimal]


@dataclass(frozen=True)
class LineTerms:
    """What pricing needs of a line."""

    kind: str
    product: str
    quantity: int
    term_years: int | None
    start_date: dt.date
    # Set Custom; None (or the default end itself) is the default.
    custom_end_date: dt.date | None = None
    # An upgrade ends where its licenses end.
    fixed_end_date: dt.date | None = None
    # An upgrade's current product.
    from_product: str | None = None


@dataclass(frozen=True)
class PricedTerms:
    start_date: dt.date
    end_date: dt.date
    default_end_date: dt.date
    custom_end_date: bool
    fallback_eligible: bool
    unit_price: Decimal
    amount: Decimal


def price_line(line: LineTerms, list_price: ListPrices, percent: Decimal) -> PricedTerms:
    """Dates, fallback flag, unit price and amount of one line (see the module docstring)."""
    start = line.start_date
    if line.kind == "upgrade":
        end = default_end = line.fixed_end_date
        days = max((end - start).days, 0)
        target = discounted(list_price(line.product, 1, "new"), percent)
        current = discounted(list_price(line.from_product, 1, "new"), percent)
        unit = prorated(max(target - current, Decimal("0")), days)
        custom = False
    else:
        term = line.term_years or 1
        default_end = default_end_date(start, term)
        kind = price_kind(line.kind)
        custom = line.custom_end_date is not None and line.custom_end_date != default_end
        if custom:
            end = line.custom_end_date
            yearly = discounted(list_price(line.product, term, kind), percent) / term
            unit = prorated(yearly, (end - start).days)
        else:
            end = default_end
            unit = discounted(list_price(line.product, term, kind), percent)
    return PricedTerms(
        start_date=start,
        end_date=end,
        default_end_date=default_end,
        custom_end_date=custom,
        fallback_eligible=fallback_eligible(start, end),
        unit_price=unit,
        amount=unit * line.quantity,
    )


def total(amounts) -> Decimal:
    return sum((Decimal(a) for a in amounts), Decimal("0.00"))
