"""Two first lines for one cart at once on the real PostgreSQL: one cart, both lines in it.

Both requests are held right after looking for the open cart (``held_after``), so both find none
and both open one; the one-open-cart slot is unique, so the later insert fails and its handler
adds its line to the winner's cart instead (a savepoint, then the same transaction goes on).
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from cart_quote import carts
from cart_quote.models import Cart, CartStatus
from portal_contracts import demo
from portal_runtime.testing import deliver, event, held_after

pytestmark = pytest.mark.integration


@pytest.fixture
def cart_quote(on_postgres, price_list):
    """cart-quote on PostgreSQL with the fixture's price list (replaces conftest's)."""
    deliver(on_postgres, event("catalog.price_list.published", price_list))
    return on_postgres


def test_two_first_lines_at_once_open_one_cart(cart_quote, client_for, people, monkeypatch):
    monkeypatch.setattr(carts, "held", held_after(carts.held))
    clients = [client_for(people["demo"]) for _ in range(2)]
    answers = [None, None]
    start = threading.Barrier(2)

    def add(i, product):
        start.wait(timeout=20)
        answers[i] = clients[i].post(
            f"/customers/{demo.ACME_ID}/cart/items",
            json={"kind": "new", "product": product, "quantity": 1},
        )

    threads = [
        threading.Thread(target=add, args=(i, product)) for i, product in enumerate(["II", "PC"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [a.status_code for a in answers] == [201, 201], [a.get_json() for a in answers]
    with cart_quote.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Cart)) == 1
        (cart,) = session.scalars(select(Cart))
        assert cart.status == CartStatus.OPEN
        assert sorted(item.product for item in cart.items) == ["II", "PC"]
