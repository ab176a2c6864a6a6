"""VAT on a priced order: which rate applies to a buyer, and how much that is, to the cent.

The rules (DOMAIN.md "Billing"; the seller is ``portal_runtime.seller``):

- a buyer in the **seller's country** pays the seller's domestic rate;
- an **EU business** buyer in another member state, with a well-formed VAT ID of that state
  (checked offline with ``python-stdnum``: format and check digits, no VIES lookup), pays 0 % and
  the document says that the reverse charge applies;
- an EU buyer **without a VAT ID** pays the seller's rate (a consumer, or a business that gave
  none);
- a buyer **outside the EU** pays 0 %: the sale is outside the scope of EU VAT;
- a buyer whose country is not known (a direct order placed without a billing address) pays the
  seller's rate, which is what is due unless the buyer shows otherwise. A cart read without a
  billing country shows no tax yet (``tax: []``): it charges nothing.

A VAT ID given for an EU country that is not well formed, or that belongs to another country, is
refused (422 naming ``billing_address.vat_id``) rather than silently charged VAT.

**Rounding, one rule everywhere**: line amounts are exact (unit price x quantity, the unit price
already half-up to the cent); the tax of each rate is computed once on the sum of the net line
amounts at that rate and rounded half-up to the cent; ``total = subtotal + sum(tax amounts)``.
A credit note repeats the invoice's figures with the opposite sign, so it never re-rounds.

Rates are data with effective dates (``data/vat_rates.csv``), not code: the rate applied is the
latest row of the country whose ``valid_from`` is on or before the day the order is priced. The
file's countries are the EU member states.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from cart_quote.config import vat_rates_file
from portal_runtime.errors import Invalid

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
RATES_FILE = Path(__file__).with_name("data") / "vat_rates.csv"
# VAT numbers say EL for Greece (ISO GR).
VAT_PREFIX = {"GR": "EL"}

REVERSE_CHARGE = (
    "Reverse charge: VAT to be accounted for by the recipient "
    "(Article 196, Council Directive 2006/112/EC)"
)
OUTSIDE_EU = "Outside the scope of EU VAT (customer outside the EU)"


class InvalidVatId(ValueError):
    """A VAT ID for an EU country that is not a well-formed VAT number of that country."""


@dataclass(frozen=True)
class Rates:
    """Standard VAT rates per EU country, each with the day it took effect."""

    rows: dict[str, list[tuple[dt.date, Decimal]]]

    @classmethod
    def load(cls, path: Path | str | None = None) -> Rates:
        path = Path(path or vat_rates_file() or RATES_FILE)
        rows: dict[str, list[tuple[dt.date, Decimal]]] = {}
        with path.open(newline="") as handle:
            lines = (line for line in handle if line.strip() and not line.startswith("#"))
            for row in csv.DictReader(lines):
                country = row["country"].strip().upper()
                since = dt.date.fromisoformat(row["valid_from"].strip())
                rows.setdefault(country, []).append((since, Decimal(row["rate"].strip())))
        return cls({country: sorted(values) for country, values in rows.items()})

    def in_eu(self, country: str) -> bool:
        return country.upper() in self.rows

    def rate(self, country: str, on: dt.date) -> Decimal:
        """The rate of ``country`` in force on ``on``."""
        history = self.rows.get(country.upper())
        if not history:
            raise LookupError(f"no VAT rate for {country}")
        current = [rate for since, rate in history if since <= on]
        if not current:
            raise LookupError(f"no VAT rate for {country} on {on.isoformat()}")
        return current[-1]


@functools.cache
def default_rates() -> Rates:
    return Rates.load()


def well_formed_vat_id(vat_id: str, country: str) -> bool:
    """Whether ``vat_id`` is a well-formed VAT number of the EU country ``country``."""
    try:
        number = eu_vat.compact(vat_id) if vat_id else ""
    except ValidationError:
        return False
    prefix = VAT_PREFIX.get(country.upper(), country.upper())
    if not number.upper().startswith(prefix):
        return False
    return eu_vat.is_valid(number)


@dataclass(frozen=True)
class TaxLine:
    rate: Decimal
    amount: Decimal
    note: str

    def as_dict(self) -> dict:
        return {"rate": self.rate, "amount": self.amount, "note": self.note}


def round_half_up(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def _percent(rate: Decimal) -> str:
    return f"{rate.normalize():f}"


def tax_for(
    subtotal: Decimal,
    *,
    seller_country: str,
    buyer_country: str | None,
    vat_id: str | None,
    on: dt.date,
    rates: Rates,
) -> list[TaxLine]:
    """The tax lines of a net ``subtotal`` sold to this buyer on day ``on`` (module docstring)."""
    seller_country = seller_country.upper()
    buyer_country = (buyer_country or "").strip().upper() or None
    vat_id = (vat_id or "").strip() or None
    in_eu = bool(buyer_country) and rates.in_eu(buyer_country)
    if vat_id and in_eu and not well_formed_vat_id(vat_id, buyer_country):
        raise InvalidVatId(vat_id)
    if buyer_country and not rates.in_eu(buyer_country) and buyer_country != seller_country:
        return [TaxLine(Decimal("0"), ZERO, OUTSIDE_EU)]
    if buyer_country and buyer_country != seller_country and vat_id:
        return [TaxLine(Decimal("0"), ZERO, REVERSE_CHARGE)]
    rate = rates.rate(seller_country, on)
    note = f"VAT {_percent(rate)} % ({seller_country})"
    return [TaxLine(rate, round_half_up(Decimal(subtotal) * rate / 100), note)]


@dataclass(frozen=True)
class Summary:
    """What a priced order adds up to: net subtotal, tax per rate, gross total."""

    subtotal: Decimal
    tax: list[TaxLine]

    @property
    def total(self) -> Decimal:
        return self.subtotal + sum((t.amount for t in self.tax), ZERO)

    def as_dict(self) -> dict:
        return {
            "subtotal": self.subtotal,
            "tax": [t.as_dict() for t in self.tax],
            "total": self.total,
        }


def summarise(
    amounts: Iterable[Decimal],
    address: dict | None,
    *,
    seller_country: str,
    on: dt.date,
    rates: Rates | None = None,
) -> Summary:
    """Subtotal of the net line ``amounts``, the tax due on it for the buyer at ``address``."""
    subtotal = sum((Decimal(a) for a in amounts), ZERO)
    address = address or {}
    tax = tax_for(
        subtotal,
        seller_country=seller_country,
        buyer_country=address.get("country"),
        vat_id=address.get("vat_id"),
        on=on,
        rates=rates or default_rates(),
    )
    return Summary(subtotal, tax)


def summary_for(
    amounts: Iterable[Decimal], address: dict | None, *, seller_country: str, on: dt.date
) -> Summary:
    """``summarise``, with a VAT ID that cannot be used refused as the 422 naming
    ``billing_address.vat_id``."""
    try:
        return summarise(amounts, address, seller_country=seller_country, on=on)
    except InvalidVatId:
        raise Invalid(
            errors={
                "billing_address": {
                    "vat_id": [
                        "Not a well-formed VAT number of the billing address's country "
                        "(e.g. DE123456789 for Germany)."
                    ]
                }
            },
            detail="The VAT ID cannot be used.",
        ) from None
