"""The catalog's command handlers: list prices and partner discounts, and telling cart-quote.

A change that alters anything records one event in the same transaction: the whole price book of
the currency (``catalog.price_list.published``) or the reseller's discount
(``catalog.partner_discount.changed``). A command that changes nothing records nothing, which is
what makes the seed idempotent. Each handler returns whether anything changed. The catalog
consumes no events.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from catalog import events, queries
from catalog.commands import PublishPriceList, SetPartnerDiscount, SetPrices
from catalog.models import ListPrice, PartnerDiscount, Product
from portal_runtime.clock import Clock
from portal_runtime.errors import Invalid
from portal_runtime.uow import UnitOfWork

CENT = Decimal("0.01")


def set_prices(cmd: SetPrices, uow: UnitOfWork, clock: Clock) -> bool:
    """Create or update a product's list prices in one currency; publish the book if changed."""
    session = uow.session
    at = cmd.at or clock.now()
    currency = cmd.currency.upper()
    product = session.get(Product, cmd.code)
    changed = False
    if product is None:
        if not cmd.name:
            raise Invalid("name", "Required to create a new product.")
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
    if changed and cmd.publish:
        publish_price_list(PublishPriceList(currency, at), uow, clock)
    return changed


def publish_price_list(cmd: PublishPriceList, uow: UnitOfWork, clock: Clock) -> bool:
    uow.session.flush()
    products = queries.products(uow.session)
    payload = events.price_list_published(products, cmd.currency.upper(), cmd.at or clock.now())
    uow.record("catalog.price_list.published", payload)
    return True


def set_partner_discount(cmd: SetPartnerDiscount, uow: UnitOfWork, clock: Clock) -> bool:
    at = cmd.at or clock.now()
    percent = Decimal(str(cmd.percent)).quantize(CENT)
    row = uow.session.get(PartnerDiscount, cmd.reseller_id)
    if row is not None and row.percent == percent:
        return False
    if row is None:
        row = PartnerDiscount(reseller_id=cmd.reseller_id, percent=percent, updated_at=at)
        uow.session.add(row)
    else:
        row.percent = percent
        row.updated_at = at
    uow.record("catalog.partner_discount.changed", events.partner_discount_changed(row))
    return True


COMMAND_HANDLERS = {
    SetPrices: set_prices,
    PublishPriceList: publish_price_list,
    SetPartnerDiscount: set_partner_discount,
}
EVENT_HANDLERS: dict = {}
