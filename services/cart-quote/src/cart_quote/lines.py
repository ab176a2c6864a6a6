"""Cart lines: from a request to a checked line, and from a line to its priced order-line shape.

The same code serves the cart, Get Quote and ``POST /internal/pricing``, so a line costs the same
whichever way it is bought. Renewal, upgrade and downgrade lines read their licenses from
license-assign (the ``licenses`` port):

- **renewal**: the licenses' own product (or the one a downgrade already ordered gives them by
  then); quantity = number of licenses; starts when they end (``valid_until``, or today if that
  is past), default end = start + term, renewal price;
- **upgrade**: single product -> ``ALL``, only while the licenses are active; from today to their
  ``valid_until``; priced for the rest of the term (``pricing`` module);
- **downgrade**: ``ALL`` -> a single product, taking effect at renewal (start = ``valid_until``),
  renewal price of the target product.

Licenses of one line must share product and end date (renew differing ones as separate lines).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cart_quote.price_book import PriceBook
from cart_quote.pricing import ALL_PRODUCTS, LineTerms, PriceUnknown, price_line
from portal_runtime.errors import Invalid

if TYPE_CHECKING:  # the ports module brings the HTTP client with it
    from cart_quote.ports import Licenses


@dataclass
class LineSpec:
    """A checked line, as a cart item stores it (the attribute names are the same)."""

    kind: str
    product: str
    quantity: int
    term_years: int | None
    start_date: dt.date | None = None
    co_term_end_date: dt.date | None = None
    fixed_end_date: dt.date | None = None
    from_product: str | None = None
    team_id: str | None = None
    team_name: str | None = None
    subscription_pack: str | None = None
    license_ids: list[str] = field(default_factory=list)


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _licenses(licenses: Licenses, customer_id: str, ids: list[str]) -> list[dict]:
    unique = list(dict.fromkeys(ids))
    if len(unique) != len(ids):
        raise Invalid("license_ids", "A license is named twice.")
    found = {lic["license_id"]: lic for lic in licenses.get(customer_id, unique)}
    # Licenses of another customer are simply not found: the same answer as unknown ones.
    missing = [lid for lid in unique if lid not in found]
    if missing:
        raise Invalid("license_ids", f"No such license of this customer: {', '.join(missing)}.")
    return [found[lid] for lid in unique]


def check_placement(
    licenses: Licenses, customer_id: str, team_id: str | None, subscription_pack: str | None
) -> None:
    """A line's team and subscription pack, when named, must be this account's; 422 otherwise
    (a new team is named by ``team_name``, a new pack by naming none)."""
    errors = {}
    if team_id and not licenses.has_team(customer_id, team_id):
        errors["team_id"] = ["No such team in this account."]
    if subscription_pack and not licenses.has_pack(customer_id, subscription_pack):
        errors["subscription_pack"] = ["No such subscription pack in this account."]
    if errors:
        raise Invalid(errors=errors)


def refuse_licenses_twice(specs: list, already: set[str] | frozenset = frozenset()) -> None:
    """A license is renewed, upgraded or downgraded by one line of a cart or order at most: a
    second line would charge for it again. 422 naming the licenses otherwise."""
    seen = set(already)
    for spec in specs:
        twice = [lid for lid in spec.license_ids or [] if lid in seen]
        if twice:
            named = ", ".join(sorted(set(twice)))
            raise Invalid("license_ids", f"Already in another line: {named}.")
        seen.update(spec.license_ids or [])


def _shared(items: list[dict], key: str, what: str):
    values = {str(item[key]) for item in items}
    if len(values) != 1:
        raise Invalid("license_ids", f"These licenses differ in {what}; use one line for each.")
    return items[0][key]


def resolve(
    data: dict, customer_id: str, book: PriceBook, licenses: Licenses, today: dt.date
) -> LineSpec:
    """Check a requested line (a cart item or an order line) and fix its dates; 422 otherwise."""
    kind = data["kind"]
    term = data.get("term_years") or 1
    details = {
        "team_id": data.get("team_id"),
        "team_name": None if data.get("team_id") else data.get("team_name"),
        "subscription_pack": data.get("subscription_pack"),
    }
    product = (data.get("product") or "").upper() or None
    check_placement(licenses, customer_id, details["team_id"], details["subscription_pack"])
    if kind == "new":
        if not book.knows(product):
            raise Invalid("product", "Unknown product.")
        spec = LineSpec(kind, product, data["quantity"], term, **details)
        start = today
    else:
        items = _licenses(licenses, customer_id, list(data["license_ids"]))
        if kind == "renewal":
            # A downgrade already ordered takes effect before the renewal starts: what is renewed
            # is the product the licenses will have by then.
            renewed = [{"product": i.get("pending_product") or i["product"]} for i in items]
            current = _shared(renewed, "product", "product")
        else:
            current = _shared(items, "product", "product")
        valid_until = _date(_shared(items, "valid_until", "end date"))
        ids = [item["license_id"] for item in items]
        if kind == "renewal":
            if product and product != current:
                raise Invalid("product", "A renewal keeps the licenses' product.")
            if not book.knows(current):
                raise Invalid("product", "This product is no longer sold.")
            start = max(valid_until, today)
            spec = LineSpec(kind, current, len(ids), term, start_date=start, license_ids=ids)
        elif kind == "upgrade":
            if current == ALL_PRODUCTS:
                raise Invalid("license_ids", "These licenses are already All Products Pack.")
            if product and product != ALL_PRODUCTS:
                raise Invalid("product", "An upgrade is to the All Products Pack (ALL).")
            active = all(item.get("status") != "expired" for item in items)
            if not active or valid_until <= today:
                raise Invalid("license_ids", "Only licenses still active can be upgraded.")
            start = today
            spec = LineSpec(
                kind,
                ALL_PRODUCTS,
                len(ids),
                None,
                start_date=start,
                fixed_end_date=valid_until,
                from_product=current,
                license_ids=ids,
            )
        else:  # downgrade
            if current != ALL_PRODUCTS:
                raise Invalid("license_ids", "Only All Products Pack licenses can be downgraded.")
            if not product or product == ALL_PRODUCTS or not book.knows(product):
                raise Invalid("product", "Name the single product to downgrade to.")
            start = max(valid_until, today)
            spec = LineSpec(
                kind,
                product,
                len(ids),
                term,
                start_date=start,
                from_product=current,
                license_ids=ids,
            )
        # A renewal, upgrade or downgrade stays in the licenses' team and pack unless told.
        spec.team_id = details["team_id"] or (
            None if details["team_name"] else items[0].get("team_id")
        )
        spec.team_name = details["team_name"]
        spec.subscription_pack = details["subscription_pack"] or items[0].get("subscription_pack")
    if data.get("end_date") is not None:
        set_end_date(spec, data["end_date"], start)
    return spec


def set_end_date(spec, end_date: dt.date | None, start: dt.date) -> None:
    """Set Custom (a date) or Set Default (None) on a line; 422 when the date cannot be."""
    if end_date is None:
        spec.co_term_end_date = None
        return
    if spec.kind == "upgrade":
        raise Invalid("end_date", "An upgrade ends with its licenses.")
    if end_date <= start:
        raise Invalid("end_date", f"Must be after the start date {start.isoformat()}.")
    spec.co_term_end_date = end_date


def priced(spec, book: PriceBook, today: dt.date, line_no: int) -> dict:
    """The line as ``orders.order.placed`` carries it, plus its default and custom end facts."""
    # A line never starts in the past: a new subscription starts the day it is ordered, a renewal
    # whose licenses lapsed while it waited starts today, an upgrade pays only the days left.
    start = max(spec.start_date or today, today)
    custom = spec.co_term_end_date
    if custom is not None and custom <= start:
        custom = None  # a co-term date that has since passed: back to the default
    terms = LineTerms(
        kind=spec.kind,
        product=spec.product,
        quantity=spec.quantity,
        term_years=spec.term_years,
        start_date=start,
        custom_end_date=custom,
        fixed_end_date=spec.fixed_end_date,
        from_product=spec.from_product,
    )
    try:
        result = price_line(terms, book.list_price, book.percent)
    except PriceUnknown as exc:
        raise Invalid("product", f"No {book.currency} price for {exc.product}.")
    return {
        "line_no": line_no,
        "kind": spec.kind,
        "product": spec.product,
        "product_name": book.name(spec.product),
        "quantity": spec.quantity,
        "term_years": spec.term_years,
        "start_date": result.start_date,
        "end_date": result.end_date,
        "default_end_date": result.default_end_date,
        "custom_end_date": result.custom_end_date,
        "fallback_eligible": result.fallback_eligible,
        "team_id": spec.team_id,
        "team_name": spec.team_name,
        "subscription_pack": spec.subscription_pack,
        "license_ids": list(spec.license_ids or []),
        "unit_price": result.unit_price,
        "amount": result.amount,
    }


ORDER_LINE_FIELDS = (
    "line_no",
    "kind",
    "product",
    "quantity",
    "term_years",
    "start_date",
    "end_date",
    "fallback_eligible",
    "team_id",
    "team_name",
    "subscription_pack",
    "license_ids",
    "unit_price",
    "amount",
    "product_name",
)


def priced_lines(cart, book: PriceBook, today: dt.date) -> list[dict]:
    """A cart's items priced today, numbered from 1, each with its item ``id``."""
    if cart is None:
        return []
    lines = []
    for number, item in enumerate(cart.items, start=1):
        line = priced(item, book, today, number)
        line["id"] = item.id
        lines.append(line)
    return lines


def price_order(
    requested: list[dict], customer_id: str, book: PriceBook, licenses: Licenses, today: dt.date
) -> list[dict]:
    """Order lines (``PlaceOrderRequest`` lines) priced exactly as the cart prices them, in
    ``orders.order.placed`` shape; a 422 naming every line that cannot be, by its index."""
    lines = []
    errors = {}
    taken: set[str] = set()  # licenses of the lines before
    for index, request_line in enumerate(requested):
        try:
            spec = resolve(request_line, customer_id, book, licenses, today)
            refuse_licenses_twice([spec], taken)
            taken.update(spec.license_ids)
            lines.append(order_line(priced(spec, book, today, index + 1)))
        except Invalid as exc:
            errors[str(index)] = exc.errors
    if errors:
        raise Invalid(errors={"lines": errors}, detail="Some lines cannot be priced.")
    return lines


def order_line(line: dict) -> dict:
    """Exactly the fields of an ``orders.order.placed`` line (the product's name, when missing,
    is its code)."""
    fields = {key: line[key] for key in ORDER_LINE_FIELDS if key != "product_name"}
    return {**fields, "product_name": line.get("product_name") or line["product"]}
