"""Demo data of cart-quote: a direct quote the vendor issued to Acme Corp.

A reseller enters the customer by this quote's number and its licensee email
(``Q-2026-000001`` / ``jane.doe@acme.example``), which makes it the reseller's quote. Carts need
no seed; prices arrive from the catalog's events. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from cart_quote.models import Quote, QuoteLine
from cart_quote.pricing import add_years
from portal_contracts import demo

DIRECT_QUOTE_NUMBER = "Q-2026-000001"
DIRECT_QUOTE_END_USER = {
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane.doe@acme.example",
}
# Valid well into the future, so the demo can claim it whenever it runs.
DIRECT_QUOTE_VALID_DAYS = 365
QUANTITY = 5
UNIT_PRICE = Decimal("599.00")  # IntelliJ IDEA Ultimate, one year, list price


def seed(service) -> None:
    now = service.clock.now()
    today = now.date()
    with service.uow(correlation_id="seed-cart-quote") as uow:
        if uow.session.scalar(select(Quote).where(Quote.number == DIRECT_QUOTE_NUMBER)):
            return
        quote = Quote(
            number=DIRECT_QUOTE_NUMBER,
            kind="direct",
            tenant=None,
            reseller_id=None,
            buyer=None,
            customer_id=demo.ACME_ID,
            customer_name=demo.ACME_NAME,
            customer_email=demo.ACME_CONTACT,
            end_user=DIRECT_QUOTE_END_USER,
            end_user_email=DIRECT_QUOTE_END_USER["email"],
            billing_address=None,
            po_number=None,
            currency=demo.CURRENCY,
            total=UNIT_PRICE * QUANTITY,
            status="open",
            issued_at=now,
            valid_until=today + dt.timedelta(days=DIRECT_QUOTE_VALID_DAYS),
        )
        quote.lines.append(
            QuoteLine(
                line_no=1,
                kind="new",
                product="II",
                product_name=demo.PRODUCTS["II"],
                quantity=QUANTITY,
                term_years=1,
                start_date=today,
                end_date=add_years(today, 1),
                fallback_eligible=True,
                team_id=None,
                team_name=None,
                subscription_pack=None,
                license_ids=[],
                unit_price=UNIT_PRICE,
                amount=UNIT_PRICE * QUANTITY,
            )
        )
        uow.session.add(quote)
        uow.commit()
