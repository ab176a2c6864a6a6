"""The catalog's commands: change list prices and partner discounts, and tell cart-quote.

A change that alters anything records one event in the same transaction: the whole price book of
the currency (``catalog.price_list.published``) or the reseller's discount
(``catalog.partner_discount.changed``). A command that changes nothing records nothing, which is
what makes the seed idempotent. The catalog consumes no events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from catalog.models import ListPrice, PartnerDiscount, Product
from portal_runtime.uow import UnitOfWork

CENT = Decimal("0.01")


class UnknownProduct(LookupError):
    """A price for a product the catalog does not have, and no name to create it with."""


@dataclass(frozen=True)
class SetPrices:
    code: str
    currency: str
    # [{term_years, kind, amount}]; prices of this currency not named stay as they are.
    prices: list[dict]
    name: str | None = None
    includes: list[str] | None = None
    position: int | None = None
    at: dt.datetime | None = None
    # False when a caller sets several products and publishes the book once (the seed).
    publish: bool = True


@dataclass(frozen=True)
class SetPartnerDiscount:
    reseller_id: str
    percent: Decimal
    at: dt.datetime | None = None


@dataclass
class Outcome:
    changed: bool
    events: list[str] = field(default_factory=list)


def set_prices(cmd: SetPrices, uow: UnitOfWork) -> Outcome:
    """Create or update a product's list prices in one currency; publish the book if changed."""
    session = uow.session
    at = cmd.at or dt.datetime.now(dt.UTC)
    currency = cmd.currency.upper()
    product = session.get(Product, cmd.code)
    changed = False
    if product is None:
        if not cmd.name:
            raise UnknownProduct(cmd.code)
        if cmd.position is None:  # a new product is listed after the others
            last = session.scalar(select(func.max(Product.position)))
            position = 0 if last is None else last + 1
        else:
            position = cmd.position
        product = Product(
            code=cmd.code,
            name=cmd.name,
            includes=list(cmd.includes or []),
            position=position,
        )
        session.add(product)
        changed = True
    else:
        if cmd.name and cmd.name != product.name:
            product.name = cmd.name
            changed = True
        if cmd.includes is not None and list(cmd.includes) != list(product.includes or []):
            product.includes = list(cmd.includes)
            changed = True
    existing = {(p.currency, p.term_years, p.kind): p for p in product.prices}
    for price in cmd.prices:
        amount = Decimal(str(price["amount"])).quantize(CENT)
        key = (currency, int(price["term_years"]), price["kind"])
        row = existing.get(key)
        if row is None:
            product.prices.append(
                ListPrice(
                    currency=currency,
                    term_years=key[1],
                    kind=key[2],
                    amount=amount,
                    updated_at=at,
                )
            )
            changed = True
        elif row.amount != amount:
            row.amount = amount
            row.updated_at = at
            changed = True
    outcome = Outcome(changed=changed)
    if changed and cmd.publish:
        outcome.events.append(publish_price_list(uow, currency, at))
    return outcome


def publish_price_list(uow: UnitOfWork, currency: str, at: dt.datetime) -> str:
    uow.session.flush()
    return uow.record("catalog.price_list.published", price_list_payload(uow.session, currency, at))


def price_list_payload(session, currency: str, at: dt.datetime) -> dict:
    """The whole price book of one currency, as cart-quote keeps it."""
    products = session.scalars(select(Product).order_by(Product.position, Product.code))
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


def set_partner_discount(cmd: SetPartnerDiscount, uow: UnitOfWork) -> Outcome:
    at = cmd.at or dt.datetime.now(dt.UTC)
    percent = Decimal(str(cmd.percent)).quantize(CENT)
    row = uow.session.get(PartnerDiscount, cmd.reseller_id)
    if row is not None and row.percent == percent:
        return Outcome(changed=False)
    if row is None:
        uow.session.add(
            PartnerDiscount(reseller_id=cmd.reseller_id, percent=percent, updated_at=at)
        )
    else:
        row.percent = percent
        row.updated_at = at
    message_id = uow.record(
        "catalog.partner_discount.changed",
        {"reseller_id": cmd.reseller_id, "percent": percent, "effective_at": at},
    )
    return Outcome(changed=True, events=[message_id])


EVENT_HANDLERS: dict = {}
