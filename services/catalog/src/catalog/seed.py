"""Demo data of the catalog: the five demo products, their list prices, the partner discounts.

Idempotent: a second run finds everything as it should be, changes nothing and publishes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from catalog.commands import PublishPriceList, SetPartnerDiscount, SetPrices
from portal_contracts import demo

# New-subscription list price for one year (USD and EUR carry the same figures, as the vendor's
# price list does); a two-year term is 1.8 years' worth; renewal has a 20% continuity discount.
YEARLY = {
    "II": Decimal("599.00"),
    "PC": Decimal("249.00"),
    "WS": Decimal("159.00"),
    "RM": Decimal("229.00"),
    "ALL": Decimal("779.00"),
}
TWO_YEAR_FACTOR = Decimal("1.8")
CONTINUITY_DISCOUNT = Decimal("0.20")
CURRENCIES = ("USD", "EUR")
DISCOUNTS = {demo.DEMO_RESELLER_ID: Decimal("10"), demo.OTHER_RESELLER_ID: Decimal("15")}
CENT = Decimal("0.01")


def price_book(yearly: Decimal) -> list[dict]:
    prices = []
    for term in (1, 2):
        new = (yearly * (1 if term == 1 else TWO_YEAR_FACTOR)).quantize(CENT)
        renewal = (new * (1 - CONTINUITY_DISCOUNT)).quantize(CENT)
        prices += [
            {"term_years": term, "kind": "new", "amount": new},
            {"term_years": term, "kind": "renewal", "amount": renewal},
        ]
    return prices


def seed(service) -> None:
    singles = [code for code in demo.PRODUCTS if code != "ALL"]
    now = service.clock.now()
    with service.uow(correlation_id="seed-catalog") as uow:
        for currency in CURRENCIES:
            changed = False
            for position, (code, name) in enumerate(demo.PRODUCTS.items()):
                changed = (
                    service.handle(
                        SetPrices(
                            code=code,
                            currency=currency,
                            prices=price_book(YEARLY[code]),
                            name=name,
                            includes=singles if code == "ALL" else [],
                            position=position,
                            at=now,
                            publish=False,
                        ),
                        uow=uow,
                    )
                    or changed
                )
            if changed:
                # The whole book of the currency, once.
                service.handle(PublishPriceList(currency, at=now), uow=uow)
        for reseller_id, percent in DISCOUNTS.items():
            service.handle(
                SetPartnerDiscount(reseller_id=reseller_id, percent=percent, at=now), uow=uow
            )
        uow.commit()
