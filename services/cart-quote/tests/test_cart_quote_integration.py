"""Catalog and cart-quote on the real PostgreSQL and RabbitMQ.

The catalog's seeded price lists travel outbox -> relay -> RabbitMQ -> cart-quote's consumer into
cart-quote's copy; carts and quotes then work on PostgreSQL (searches, the one-open-cart rule).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from cart_quote.bootstrap import bootstrap as cart_quote_bootstrap
from cart_quote.bootstrap import create_app
from cart_quote.config import CartQuoteConfig
from cart_quote.models import CatalogPrice, PartnerDiscount
from catalog.bootstrap import bootstrap as catalog_bootstrap
from catalog.config import CatalogConfig
from catalog.seed import seed as seed_catalog
from portal_contracts import demo
from portal_runtime.testing import broker_url, bus_prefix, delete_bus, postgres_database
from portal_runtime.testkit import Api

pytestmark = pytest.mark.integration


def wait_for(condition, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def stack(clock, customers, licenses, orders):
    url, prefix = broker_url(), bus_prefix()
    with postgres_database("catalog") as catalog_db, postgres_database("cart_quote") as cq_db:
        common = dict(broker_url=url, bus_prefix=prefix, retry_first_delay=0.05)
        catalog = catalog_bootstrap(
            CatalogConfig.from_env("catalog", database_url=catalog_db, **common)
        )
        cart_quote = cart_quote_bootstrap(
            CartQuoteConfig.from_env("cart-quote", database_url=cq_db, **common),
            clock=clock,
            licenses=licenses,
            orders=orders,
            customers=customers,
        )
        catalog.migrate()
        cart_quote.migrate()
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=catalog.run_worker, args=(stop,), kwargs={"consume": False, "jobs": False}
            ),
            threading.Thread(
                target=cart_quote.run_worker, args=(stop,), kwargs={"relay": False, "jobs": False}
            ),
        ]
        for thread in threads:
            thread.daemon = True
            thread.start()
        try:
            yield catalog, cart_quote
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            catalog.engine.dispose()
            cart_quote.engine.dispose()
            delete_bus(url, prefix)


def test_seeded_prices_reach_the_cart_and_quotes_work_on_postgres(stack, people):
    catalog, cart_quote = stack
    seed_catalog(catalog)

    def copied():
        with cart_quote.sessions() as session:
            prices = session.scalar(select(func.count()).select_from(CatalogPrice))
            discounts = session.scalar(select(func.count()).select_from(PartnerDiscount))
        return prices == 2 * 5 * 4 and discounts == 2

    wait_for(copied)

    app = create_app(cart_quote)
    cart = f"/customers/{demo.ACME_ID}/cart"

    def post_line(product):
        # A client of its own for each thread.
        return Api(app, people["demo"]).post(
            f"{cart}/items", json={"kind": "new", "product": product, "quantity": 1}
        )

    # Two first lines at once: one cart, both lines in it.
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(post_line, ["II", "PC"]))
    assert [a.status_code for a in answers] == [201, 201], [a.get_json() for a in answers]

    client = Api(app, people["demo"])
    body = client.get(cart).get_json()
    assert sorted((i["product"], i["unit_price"]) for i in body["items"]) == [
        ("II", "539.10"),
        ("PC", "224.10"),
    ]
    assert body["total"] == "763.20"

    quote = client.post(
        f"{cart}/quote",
        json={
            "billing_address": {"line1": "1 Partner Way", "city": "Springfield", "country": "US"},
            "end_user": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example"},
        },
    )
    assert quote.status_code == 201, quote.get_json()
    number = quote.get_json()["number"]
    found = client.get(
        "/quotes?customer_name=ACME&from=2026-11-22&to=2026-11-22&status=open"
    ).get_json()["items"]
    assert [q["number"] for q in found] == [number]
