"""Placements on the real PostgreSQL: concurrent ones with one key, or of one cart, make one
order; an order's number is made of its row id.

Concurrent requests are held at a barrier inside placement (after the replay check, before the
insert), so they truly race for the database: the loser must answer with the winner's order.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from decimal import Decimal

import pytest
from orders_testkit import END_USER, OrdersApi
from sqlalchemy import func, select, text

from orders.bootstrap import bootstrap
from orders.config import OrdersConfig
from orders.models import IdempotencyKey, Order
from portal_contracts import demo
from portal_runtime.testing import postgres_database, recorded
from portal_runtime.testkit import OTHER_RESELLER, RESELLER

pytestmark = pytest.mark.integration


class Held:
    """Wraps a read port so that ``count`` callers meet before any of them goes on."""

    def __init__(self, inner, method: str, count: int = 2):
        self.inner = inner
        self.method = method
        self.barrier = threading.Barrier(count)

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name != self.method:
            return attr

        def held(*args, **kwargs):
            self.barrier.wait(timeout=10)
            return attr(*args, **kwargs)

        return held


@pytest.fixture
def pg_orders(clock, fakes):
    fakes.carts = Held(fakes.carts, "cart")
    fakes.pricing = Held(fakes.pricing, "price")
    with pg_service(clock, fakes) as service:
        yield service


@pytest.fixture
def pg_alone(clock, fakes):
    """The service on PostgreSQL, its reads answering at once."""
    with pg_service(clock, fakes) as service:
        yield service


@contextmanager
def pg_service(clock, fakes):
    with postgres_database("orders") as url:
        config = OrdersConfig.from_env(
            "orders", database_url=url, broker_url="memory://", retry_first_delay=0.0
        )
        service = bootstrap(
            config,
            clock=clock,
            customers=fakes.customers,
            pricing=fakes.pricing,
            payment_methods=fakes.payment_methods,
            carts=fakes.carts,
        )
        service.migrate()
        yield service
        service.engine.dispose()


def race(*calls) -> list:
    results = [None] * len(calls)

    def run(i, call):
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def count(service, model) -> int:
    with service.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_two_concurrent_checkouts_with_one_key_create_one_order(pg_orders, fakes):
    fakes.carts.inner.fill(RESELLER, demo.ACME_ID)
    a, b = OrdersApi(pg_orders), OrdersApi(pg_orders)

    first, second = race(
        lambda: a.checkout(RESELLER, key="same"), lambda: b.checkout(RESELLER, key="same")
    )

    assert first.status_code == second.status_code == 201, (first.json, second.json)
    assert first.json == second.json
    assert count(pg_orders, Order) == 1
    assert count(pg_orders, IdempotencyKey) == 1
    assert len(recorded(pg_orders, "orders.order.placed")) == 1


def test_two_concurrent_direct_orders_with_one_key_create_one_order(pg_orders):
    body = {
        "customer_id": demo.GLOBEX_ID,
        "lines": [{"kind": "new", "product": "WS", "quantity": 1}],
        "end_user": END_USER,
        "po_number": "PO-1",
    }
    a, b = OrdersApi(pg_orders), OrdersApi(pg_orders)

    first, second = race(
        lambda: a.call("POST", "/orders", RESELLER, json=body, key="k"),
        lambda: b.call("POST", "/orders", RESELLER, json=body, key="k"),
    )

    assert first.status_code == second.status_code == 201, (first.json, second.json)
    assert first.json["number"] == second.json["number"]
    assert count(pg_orders, Order) == 1
    assert len(recorded(pg_orders, "orders.order.placed")) == 1


def test_two_concurrent_checkouts_of_one_cart_with_different_keys_create_one_order(
    pg_orders, fakes
):
    fakes.carts.inner.fill(RESELLER, demo.ACME_ID)
    a, b = OrdersApi(pg_orders), OrdersApi(pg_orders)

    results = race(lambda: a.checkout(RESELLER, key="one"), lambda: b.checkout(RESELLER, key="two"))

    assert sorted(r.status_code for r in results) == [201, 409]
    assert count(pg_orders, Order) == 1
    assert len(recorded(pg_orders, "orders.order.placed")) == 1


def test_checking_out_a_cart_and_the_same_cart_grown_concurrently_makes_one_order(pg_orders, fakes):
    carts = fakes.carts.inner
    cart = carts.fill(RESELLER, demo.ACME_ID, carts.item(product="PC"))
    items = [*cart["items"], carts.item(product="WS", quantity=1)]
    grown = dict(cart, items=items, total=str(sum(Decimal(i["amount"]) for i in items)))
    answers = iter([cart, grown])
    lock = threading.Lock()

    def cart_as_each_request_reads_it(identity, customer_id, billing_address=None):
        with lock:
            return next(answers)

    carts.cart = cart_as_each_request_reads_it
    a, b = OrdersApi(pg_orders), OrdersApi(pg_orders)

    results = race(lambda: a.checkout(RESELLER, key="one"), lambda: b.checkout(RESELLER, key="two"))

    assert sorted(r.status_code for r in results) == [201, 409], [r.json for r in results]
    [won] = [r for r in results if r.status_code == 201]
    [lost] = [r for r in results if r.status_code == 409]
    assert won.json["number"] in lost.json["detail"]
    assert count(pg_orders, Order) == 1
    assert len(recorded(pg_orders, "orders.order.placed")) == 1


def test_the_same_key_for_two_resellers_concurrently_makes_two_orders(pg_orders, fakes):

    fakes.carts.inner.fill(RESELLER, demo.ACME_ID)
    fakes.carts.inner.fill(OTHER_RESELLER, demo.ACME_ID, cart_id="cart-2")
    a, b = OrdersApi(pg_orders), OrdersApi(pg_orders)

    mine, theirs = race(
        lambda: a.checkout(RESELLER, key="shared"),
        lambda: b.checkout(OTHER_RESELLER, key="shared", payment_method_id="pm-other-card"),
    )

    assert mine.status_code == theirs.status_code == 201
    assert mine.json["number"] != theirs.json["number"]
    assert count(pg_orders, Order) == 2


def test_an_order_number_is_its_year_and_its_row_id_of_six_digits_or_more(pg_alone):
    api = OrdersApi(pg_alone)
    body = {
        "customer_id": demo.GLOBEX_ID,
        "lines": [{"kind": "new", "product": "WS", "quantity": 1}],
        "end_user": END_USER,
        "po_number": "PO-7",
    }
    first = api.call("POST", "/orders", RESELLER, json=body)
    with pg_alone.engine.begin() as conn:  # the next row id past six digits
        conn.execute(text("SELECT setval(pg_get_serial_sequence('orders', 'id'), 999999)"))
    second = api.call("POST", "/orders", RESELLER, json=body)

    assert first.status_code == second.status_code == 201, (first.json, second.json)
    year = first.json["placed_at"][:4]
    with pg_alone.sessions() as session:
        stored = dict(session.execute(select(Order.number, Order.id).order_by(Order.id)).all())
    assert stored == {f"O-{year}-000001": 1, f"O-{year}-1000000": 1000000}
    assert [first.json["number"], second.json["number"]] == list(stored)
    placed = [p["order_number"] for p in recorded(pg_alone, "orders.order.placed")]
    assert placed == list(stored)
    # Found by its number.
    assert api.get(f"/orders/{second.json['number']}", RESELLER).json["po_number"] == "PO-7"
