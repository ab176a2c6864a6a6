"""VAT rules on a priced order: each kind of buyer, the rate in force on the day, the cent."""

import datetime as dt
from decimal import Decimal

import pytest

from cart_quote.tax import (
    OUTSIDE_EU,
    REVERSE_CHARGE,
    InvalidVatId,
    Rates,
    default_rates,
    summarise,
    tax_for,
)

DAY = dt.date(2026, 12, 1)
SELLER = "NL"


def taxed(subtotal: str, country: str | None, vat_id: str | None = None, on: dt.date = DAY):
    return tax_for(
        Decimal(subtotal),
        seller_country=SELLER,
        buyer_country=country,
        vat_id=vat_id,
        on=on,
        rates=default_rates(),
    )


def test_a_buyer_in_the_sellers_country_pays_the_domestic_rate_even_with_a_vat_id():
    (line,) = taxed("100.00", "NL", "NL123456782B01")
    assert (line.rate, line.amount, line.note) == (Decimal("21"), Decimal("21.00"), "VAT 21 % (NL)")


def test_an_eu_business_elsewhere_with_a_well_formed_vat_id_is_reverse_charged():
    (line,) = taxed("448.20", "DE", "DE 136 695 976")
    assert (line.rate, line.amount, line.note) == (Decimal("0"), Decimal("0.00"), REVERSE_CHARGE)
    assert "reverse charge" in line.note.lower()


def test_greek_vat_ids_start_with_el():
    (line,) = taxed("10.00", "GR", "EL094259216")
    assert line.note == REVERSE_CHARGE


def test_an_eu_buyer_without_a_vat_id_pays_the_sellers_rate():
    (line,) = taxed("448.20", "DE")
    assert (line.rate, line.amount) == (Decimal("21"), Decimal("94.12"))  # 94.122 -> 94.12


def test_a_buyer_outside_the_eu_pays_nothing_and_is_told_why():
    (line,) = taxed("448.20", "US", "12-3456789")
    assert (line.rate, line.amount, line.note) == (Decimal("0"), Decimal("0.00"), OUTSIDE_EU)
    (swiss,) = taxed("448.20", "CH")
    assert swiss.note == OUTSIDE_EU


def test_a_buyer_of_unknown_country_pays_the_sellers_rate():
    (line,) = taxed("10.00", None)
    assert line.amount == Decimal("2.10")


@pytest.mark.parametrize(
    "country, vat_id",
    [
        ("DE", "DE123"),  # too short
        ("DE", "DE136695977"),  # wrong check digit
        ("DE", "FR40303265045"),  # another country's number
        ("NL", "not a number"),
    ],
)
def test_a_malformed_or_foreign_vat_id_is_refused_not_charged(country, vat_id):
    with pytest.raises(InvalidVatId):
        taxed("100.00", country, vat_id)


@pytest.mark.parametrize(
    "subtotal, tax",
    [
        ("0.02", "0.00"),  # 0.0042
        ("0.10", "0.02"),  # 0.021
        ("2.50", "0.53"),  # 0.525: half up, not to even
        ("12.50", "2.63"),  # 2.625
        ("190.36", "39.98"),  # 39.9756
    ],
)
def test_tax_is_rounded_half_up_to_the_cent_once_on_the_subtotal(subtotal, tax):
    (line,) = taxed(subtotal, "NL")
    assert line.amount == Decimal(tax)


def test_the_total_is_the_subtotal_of_the_lines_plus_the_tax():
    # Three lines of 0.10: 21 % per line would be 3 x 0.02 = 0.06; on the subtotal it is 0.06
    # too, but 7 lines of 0.10 show the difference: 7 x 0.02 = 0.14 against 0.147 -> 0.15.
    summary = summarise([Decimal("0.10")] * 7, {"country": "NL"}, seller_country=SELLER, on=DAY)
    assert (summary.subtotal, summary.tax[0].amount, summary.total) == (
        Decimal("0.70"),
        Decimal("0.15"),
        Decimal("0.85"),
    )


def test_rates_are_data_with_effective_dates(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("country,rate,valid_from\nNL,19,2001-01-01\nNL,21,2012-10-01\n")
    rates = Rates.load(path)
    assert rates.rate("NL", dt.date(2012, 9, 30)) == Decimal("19")
    assert rates.rate("NL", dt.date(2012, 10, 1)) == Decimal("21")
    # The shipped table: Finland's rate went from 24 % to 25.5 % on 1 September 2024.
    assert default_rates().rate("FI", dt.date(2024, 8, 31)) == Decimal("24")
    assert default_rates().rate("FI", dt.date(2024, 9, 1)) == Decimal("25.5")
    (line,) = tax_for(
        Decimal("100.00"),
        seller_country="FI",
        buyer_country="FI",
        vat_id=None,
        on=DAY,
        rates=default_rates(),
    )
    assert (line.amount, line.note) == (Decimal("25.50"), "VAT 25.5 % (FI)")
