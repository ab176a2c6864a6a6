"""Order search: by number, PO, customer name and email, date range; only one's own orders."""

from __future__ import annotations

import pytest
from orders_testkit import END_USER

from portal_contracts import demo
from portal_runtime.testkit import ACME_ADMIN, OTHER_RESELLER, RESELLER


@pytest.fixture
def placed(api, fakes, clock) -> dict:
    """Three orders on three days: Acme (card, PO-A), Globex (PO-B), Acme by its admin."""
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    acme = api.checkout(RESELLER, po_number="PO-A").json
    clock.advance(days=1)
    body = {
        "customer_id": demo.GLOBEX_ID,
        "lines": [{"kind": "new", "product": "WS", "quantity": 1}],
        "end_user": {**END_USER, "email": "dev@globex.example"},
        "po_number": "PO-B",
    }
    globex = api.call("POST", "/orders", RESELLER, json=body).json
    clock.advance(days=1)
    fakes.carts.fill(ACME_ADMIN, demo.ACME_ID, cart_id="cart-admin")
    own = api.checkout(ACME_ADMIN, payment_method_id="pm-acme-paypal").json
    return {"acme": acme["number"], "globex": globex["number"], "own": own["number"]}


def numbers(api, identity, **params) -> list[str]:
    resp = api.get("/orders", identity, query_string=params)
    assert resp.status_code == 200, resp.json
    return [o["number"] for o in resp.json["items"]]


def test_search_by_order_number(api, placed):
    assert numbers(api, RESELLER, number=placed["acme"]) == [placed["acme"]]
    assert numbers(api, RESELLER, number=placed["acme"].lower()) == [placed["acme"]]


def test_search_by_po_number(api, placed):
    assert numbers(api, RESELLER, po_number="PO-B") == [placed["globex"]]


def test_search_by_part_of_the_customer_name_in_any_case(api, placed):
    assert numbers(api, RESELLER, customer_name="glob") == [placed["globex"]]
    assert numbers(api, RESELLER, customer_name="ACME") == [placed["acme"]]


def test_search_by_customer_or_delivery_email(api, placed):
    assert numbers(api, RESELLER, customer_email=demo.GLOBEX_CONTACT.upper()) == [placed["globex"]]
    assert numbers(api, RESELLER, customer_email="dev@globex.example") == [placed["globex"]]


def test_search_in_a_date_range_includes_both_ends(api, placed):
    assert numbers(api, RESELLER, **{"from": "2026-11-23", "to": "2026-11-23"}) == [
        placed["globex"]
    ]
    assert numbers(api, RESELLER, **{"from": "2026-11-22"}) == [placed["globex"], placed["acme"]]
    assert numbers(api, RESELLER, to="2026-11-22") == [placed["acme"]]


def test_a_reseller_sees_only_its_own_orders_and_a_customer_admin_only_its_own_purchases(
    api, placed
):
    assert numbers(api, RESELLER) == [placed["globex"], placed["acme"]]
    assert numbers(api, OTHER_RESELLER) == []
    assert numbers(api, OTHER_RESELLER, customer_name="acme") == []
    # The admin of Acme sees what it bought itself, not what a reseller bought for it.
    assert numbers(api, ACME_ADMIN) == [placed["own"]]
    assert api.get(f"/orders/{placed['acme']}", ACME_ADMIN).status_code == 404
    assert api.get(f"/orders/{placed['own']}", RESELLER).status_code == 404


def test_search_pages_with_a_cursor(api, placed):
    first = api.get("/orders", RESELLER, query_string={"limit": 1}).json
    assert [o["number"] for o in first["items"]] == [placed["globex"]]
    second = api.get(
        "/orders", RESELLER, query_string={"limit": 1, "cursor": first["next_cursor"]}
    ).json
    assert [o["number"] for o in second["items"]] == [placed["acme"]]
    assert second["next_cursor"] is None


def test_unknown_search_parameters_are_refused(api, placed):
    assert api.get("/orders", RESELLER, query_string={"colour": "red"}).status_code == 422


def test_the_order_of_a_quote_is_found_by_the_quote_number(api, fakes, placed):
    fakes.carts.issue_quote(RESELLER, number="Q-2026-000123")
    ordered = api.call("POST", "/quotes/Q-2026-000123/order", RESELLER, key="q-1").json
    assert numbers(api, RESELLER, quote_number="q-2026-000123") == [ordered["number"]]
    assert numbers(api, RESELLER, quote_number="Q-2026-000999") == []
    assert numbers(api, OTHER_RESELLER, quote_number="Q-2026-000123") == []
