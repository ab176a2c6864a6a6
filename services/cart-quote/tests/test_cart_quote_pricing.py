"""The pricing rules, on their own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cart_quote.pricing import (
    LineTerms,
    PriceUnknown,
    add_years,
    discounted,
    fallback_eligible,
    price_line,
    prorated,
)

START = dt.date(2026, 11, 22)
PRICES = {
    ("II", 1, "new"): Decimal("100.00"),
    ("II", 2, "new"): Decimal("180.00"),
    ("II", 1, "renewal"): Decimal("80.00"),
    ("II", 2, "renewal"): Decimal("144.00"),
    ("ALL", 1, "new"): Decimal("300.00"),
}


def list_price(product, term, kind):
    try:
        return PRICES[(product, term, kind)]
    except KeyError:
        raise PriceUnknown(product, term, kind)


def line(**kw) -> LineTerms:
    base = dict(kind="new", product="II", quantity=1, term_years=1, start_date=START)
    base.update(kw)
    return LineTerms(**base)


def test_one_seat_at_yearly_100_co_termed_to_84_days_costs_23_01():
    assert prorated(Decimal("100.00"), 84) == Decimal("23.01")
    priced = price_line(line(custom_end_date=START + dt.timedelta(days=84)), list_price, Decimal(0))
    assert priced.unit_price == Decimal("23.01")
    assert priced.custom_end_date is True
    assert priced.fallback_eligible is False
    assert priced.default_end_date == dt.date(2027, 11, 22)


def test_partner_discount_is_rounded_half_up_to_cents():
    assert discounted(Decimal("249.00"), Decimal("10")) == Decimal("224.10")
    assert discounted(Decimal("100.05"), Decimal("50")) == Decimal("50.03")
    assert discounted(Decimal("0.01"), Decimal("50")) == Decimal("0.01")


def test_amount_is_unit_price_times_quantity_after_rounding():
    priced = price_line(
        line(quantity=3, custom_end_date=START + dt.timedelta(days=84)), list_price, Decimal(10)
    )
    # yearly 90.00 -> 90 * 84 / 365 = 20.7123 -> 20.71 per seat, then times three.
    assert priced.unit_price == Decimal("20.71")
    assert priced.amount == Decimal("62.13")


def test_two_year_term_costs_the_two_year_price_until_co_termed():
    plain = price_line(line(term_years=2), list_price, Decimal(0))
    assert plain.end_date == dt.date(2028, 11, 22)
    assert plain.unit_price == Decimal("180.00")
    assert plain.fallback_eligible is True
    co_termed = price_line(
        line(term_years=2, custom_end_date=START + dt.timedelta(days=500)), list_price, Decimal(0)
    )
    assert co_termed.unit_price == Decimal("123.29")  # the two-year rate: 90 * 500 / 365
    # Setting the custom date to the default end is no co-terming at all.
    same = price_line(line(term_years=2, custom_end_date=dt.date(2028, 11, 22)), list_price, 0)
    assert same.custom_end_date is False and same.unit_price == Decimal("180.00")


def test_co_terming_a_line_shorter_never_costs_more_than_its_default_term():
    for term in (1, 2):
        for kind in ("new", "renewal"):
            default = price_line(line(kind=kind, term_years=term), list_price, Decimal(15))
            for days_short in (1, 30, 200):
                shorter = default.default_end_date - dt.timedelta(days=days_short)
                co_termed = price_line(
                    line(kind=kind, term_years=term, custom_end_date=shorter),
                    list_price,
                    Decimal(15),
                )
                assert co_termed.unit_price <= default.unit_price, (term, kind, days_short)


def test_renewal_uses_the_continuity_price():
    priced = price_line(line(kind="renewal", term_years=2), list_price, Decimal(0))
    assert priced.unit_price == Decimal("144.00")


def test_fallback_needs_a_full_year_of_cover():
    assert fallback_eligible(START, dt.date(2027, 11, 22)) is True
    assert fallback_eligible(START, dt.date(2027, 11, 21)) is False
    leap = dt.date(2028, 2, 29)
    assert add_years(leap, 1) == dt.date(2029, 2, 28)
    assert fallback_eligible(leap, dt.date(2029, 2, 28)) is True


def test_upgrade_costs_the_yearly_difference_for_the_remaining_days():
    priced = price_line(
        line(
            kind="upgrade",
            product="ALL",
            term_years=None,
            quantity=2,
            fixed_end_date=START + dt.timedelta(days=73),
            from_product="II",
        ),
        list_price,
        Decimal(0),
    )
    assert priced.unit_price == Decimal("40.00")  # (300 - 100) * 73 / 365
    assert priced.amount == Decimal("80.00")
    assert priced.end_date == START + dt.timedelta(days=73)


def test_a_product_without_a_price_is_refused():
    with pytest.raises(PriceUnknown):
        price_line(line(product="XX"), list_price, Decimal(0))
