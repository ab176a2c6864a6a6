"""Carts through the Flask app: lines, co-terming, details, validation, expiry, closing."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest

import portal_contracts
from catalog.bootstrap import bootstrap as catalog_bootstrap
from catalog.config import CatalogConfig
from catalog.seed import seed as seed_catalog
from portal_contracts import demo
from portal_runtime.testing import deliver, event, relay_to, service_on_sqlite
from portal_runtime.testkit import NOW, TODAY

CART = f"/customers/{demo.ACME_ID}/cart"
ITEMS = f"{CART}/items"


def add(client, **body):
    body.setdefault("kind", "new")
    return client.post(ITEMS, json=body)


def test_price_list_from_the_catalog_reaches_the_cart(
    tmp_path, cart_quote, demo_client, price_list
):
    catalog = service_on_sqlite(catalog_bootstrap, CatalogConfig, "catalog", tmp_path / "c")
    # The catalog's book is newer than the one the fixture delivered: it replaces it.
    catalog.clock.offset = dt.timedelta(days=400)
    seed_catalog(catalog)
    assert relay_to(catalog, [cart_quote]) == 4
    resp = add(demo_client, product="RM", quantity=2, term_years=1)
    assert resp.status_code == 201, resp.get_json()
    item = resp.get_json()["items"][0]
    # RubyMine 229.00 list, Demo Reseller 10% off: 206.10 a seat.
    assert (item["unit_price"], item["amount"]) == ("206.10", "412.20")
    assert item["product_name"] == "RubyMine"

    # A replayed, older book changes nothing.
    deliver(cart_quote, event("catalog.price_list.published", price_list))
    assert demo_client.get(CART).get_json()["items"][0]["unit_price"] == "206.10"


def test_a_newer_price_list_prices_the_next_line_at_once(cart_quote, demo_client, price_list):
    """The prices a process keeps between requests give way to the next book as it arrives."""
    assert add(demo_client, product="II", quantity=1, term_years=1).get_json()["items"][0][
        "unit_price"
    ] == "90.00"  # fmt: skip
    newer = copy.deepcopy(price_list)
    newer["effective_at"] = "2026-11-20T00:00:00+00:00"
    product = next(p for p in newer["products"] if p["code"] == "PC")
    product["name"] = "PyCharm"
    product["prices"][0]["amount"] = "60.00"
    deliver(cart_quote, event("catalog.price_list.published", newer))
    items = add(demo_client, product="PC", quantity=1, term_years=1).get_json()["items"]
    (pc,) = [item for item in items if item["product"] == "PC"]
    assert (pc["unit_price"], pc["product_name"]) == ("54.00", "PyCharm")


def test_new_line_has_default_dates_and_the_resellers_price(demo_client):
    resp = add(demo_client, product="II", quantity=3, term_years=1)
    assert resp.status_code == 201
    assert resp.headers["Location"].startswith(f"/api/v1{ITEMS}/")
    cart = resp.get_json()
    (item,) = cart["items"]
    assert item["kind"] == "new" and item["quantity"] == 3
    assert item["start_date"] == "2026-11-22"
    assert item["end_date"] == item["default_end_date"] == "2027-11-22"
    assert item["custom_end_date"] is False
    assert item["fallback_eligible"] is True
    assert (item["unit_price"], item["amount"]) == ("90.00", "270.00")
    assert (cart["total"], cart["currency"]) == ("270.00", "USD")
    assert cart["id"]


def test_a_customer_admin_buys_at_list_price(acme_client):
    item = add(acme_client, product="II", quantity=1).get_json()["items"][0]
    assert item["unit_price"] == "100.00"


def test_set_custom_prorates_by_day_and_set_default_restores(demo_client):
    item_id = add(demo_client, product="II", quantity=2).get_json()["items"][0]["id"]
    co_term = (TODAY + dt.timedelta(days=84)).isoformat()
    resp = demo_client.patch(f"{ITEMS}/{item_id}", json={"end_date": co_term})
    assert resp.status_code == 200, resp.get_json()
    item = resp.get_json()["items"][0]
    assert item["end_date"] == co_term and item["custom_end_date"] is True
    assert item["default_end_date"] == "2027-11-22"
    assert item["fallback_eligible"] is False  # under a year: no perpetual fallback
    assert (item["unit_price"], item["amount"]) == ("20.71", "41.42")  # 90 * 84 / 365

    later = demo_client.patch(f"{ITEMS}/{item_id}", json={"end_date": "2028-01-31"})
    item = later.get_json()["items"][0]
    assert item["fallback_eligible"] is True  # over a year, still co-termed
    assert item["unit_price"] == "107.26"  # 90 * 435 / 365

    back = demo_client.patch(f"{ITEMS}/{item_id}", json={"end_date": None}).get_json()
    item = back["items"][0]
    assert item["end_date"] == "2027-11-22" and item["custom_end_date"] is False
    assert (item["unit_price"], item["fallback_eligible"]) == ("90.00", True)


def test_two_year_terms(demo_client):
    item = add(demo_client, product="II", quantity=1, term_years=2).get_json()["items"][0]
    assert item["end_date"] == "2028-11-22" and item["term_years"] == 2
    assert item["unit_price"] == "162.00"  # the two-year list 180.00 less 10%


@pytest.mark.parametrize(
    "body, field",
    [
        ({"product": "NOPE", "quantity": 1}, "product"),
        ({"product": "II", "quantity": 0}, "quantity"),
        ({"product": "II", "quantity": 10_001}, "quantity"),
        ({"product": "II", "quantity": 1, "term_years": 3}, "term_years"),
        ({"product": "II", "quantity": 2.7}, "quantity"),
        ({"product": "II", "quantity": "2"}, "quantity"),
        ({"product": "II", "quantity": 1, "term_years": "1"}, "term_years"),
        ({"product": "II", "quantity": 1, "end_date": "2026-11-01"}, "end_date"),
        ({"product": "II", "quantity": 1, "colour": "red"}, "colour"),
        ({"kind": "renewal"}, "license_ids"),
    ],
)
def test_invalid_lines_are_refused_naming_the_field(demo_client, body, field):
    resp = add(demo_client, **body)
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    assert field in resp.get_json()["errors"]
    assert demo_client.get(CART).get_json()["items"] == []


def test_end_date_before_start_on_an_existing_line(demo_client):
    item_id = add(demo_client, product="II", quantity=1).get_json()["items"][0]["id"]
    resp = demo_client.patch(f"{ITEMS}/{item_id}", json={"end_date": "2026-11-21"})
    assert resp.status_code == 422 and "end_date" in resp.get_json()["errors"]
    resp = demo_client.patch(f"{ITEMS}/{item_id}", json={"quantity": 0})
    assert resp.status_code == 422 and "quantity" in resp.get_json()["errors"]
    resp = demo_client.patch(f"{ITEMS}/{item_id}", json={"quantity": 3.9})
    assert resp.status_code == 422 and "quantity" in resp.get_json()["errors"]


def test_line_details_team_and_subscription_pack(demo_client):
    item_id = add(demo_client, product="PC", quantity=5).get_json()["items"][0]["id"]
    item = demo_client.patch(
        f"{ITEMS}/{item_id}", json={"team_name": "Data Science", "subscription_pack": "SP-000001"}
    ).get_json()["items"][0]
    assert (item["team_id"], item["team_name"], item["subscription_pack"]) == (
        None,
        "Data Science",
        "SP-000001",
    )
    item = demo_client.patch(
        f"{ITEMS}/{item_id}", json={"team_id": "T-3", "subscription_pack": None, "quantity": 6}
    ).get_json()["items"][0]
    assert (item["team_id"], item["team_name"], item["subscription_pack"]) == ("T-3", None, None)
    assert item["amount"] == "270.00"
    both = demo_client.patch(f"{ITEMS}/{item_id}", json={"team_id": "T-3", "team_name": "X"})
    assert both.status_code == 422


def test_a_team_or_pack_of_another_account_or_none_is_refused(demo_client):
    item_id = add(demo_client, product="PC", quantity=1).get_json()["items"][0]["id"]
    # T-2 and SP-000002 are Globex's; T-404 and SP-404 are nobody's.
    for details, field in [
        ({"team_id": "T-2"}, "team_id"),
        ({"team_id": "T-404"}, "team_id"),
        ({"subscription_pack": "SP-000002"}, "subscription_pack"),
        ({"subscription_pack": "SP-404"}, "subscription_pack"),
    ]:
        patched = demo_client.patch(f"{ITEMS}/{item_id}", json=details)
        assert patched.status_code == 422, details
        assert list(patched.get_json()["errors"]) == [field]
        added = add(demo_client, product="PC", quantity=1, **details)
        assert added.status_code == 422, details
        assert field in added.get_json()["errors"]
    [line] = demo_client.get(CART).get_json()["items"]
    assert (line["team_id"], line["subscription_pack"]) == (None, None)


def test_remove_a_line(demo_client):
    first = add(demo_client, product="II", quantity=1).get_json()["items"][0]["id"]
    add(demo_client, product="PC", quantity=1)
    cart = demo_client.delete(f"{ITEMS}/{first}").get_json()
    assert [i["product"] for i in cart["items"]] == ["PC"]
    assert cart["total"] == "45.00"
    assert demo_client.delete(f"{ITEMS}/{first}").status_code == 404


def test_an_idle_cart_expires_after_seven_days(cart_quote, clock, demo_client):
    add(demo_client, product="II", quantity=1)
    clock.advance(days=6)
    assert len(demo_client.get(CART).get_json()["items"]) == 1  # reading does not refresh it
    clock.advance(days=1, seconds=1)
    assert demo_client.get(CART).get_json()["items"] == []
    assert add(demo_client, product="PC", quantity=1).get_json()["items"][0]["product"] == "PC"


def test_carts_are_per_buyer(demo_client, acme_client):
    add(demo_client, product="II", quantity=1)
    assert acme_client.get(CART).get_json()["items"] == []


def test_another_reseller_gets_404_on_every_cart_route(demo_client, other_client):
    item_id = add(demo_client, product="II", quantity=1).get_json()["items"][0]["id"]
    quote_body = {
        "billing_address": {"line1": "1 Way", "city": "X", "country": "US"},
        "end_user": {"first_name": "A", "last_name": "B", "email": "a@b.example"},
    }
    calls = [
        other_client.get(CART),
        other_client.post(ITEMS, json={"kind": "new", "product": "II", "quantity": 1}),
        other_client.patch(f"{ITEMS}/{item_id}", json={"quantity": 2}),
        other_client.delete(f"{ITEMS}/{item_id}"),
        other_client.post(f"{CART}/quote", json=quote_body),
    ]
    assert [r.status_code for r in calls] == [404] * len(calls)
    assert demo_client.get(CART).get_json()["items"][0]["quantity"] == 1


def test_a_billing_user_cannot_use_the_cart(client_for, people):
    billing = client_for(dataclasses.replace(people["demo"], roles=("billing",)))
    assert billing.get(CART).status_code == 403


# -- renewal, upgrade and downgrade lines --------------------------------------------------------


def test_renewal_line_from_licenses(demo_client, licenses):
    licenses.add(demo.ACME_ID, "L-1", "II", "2027-01-31")
    licenses.add(demo.ACME_ID, "L-2", "II", "2027-01-31")
    resp = add(demo_client, kind="renewal", license_ids=["L-1", "L-2"], term_years=1)
    assert resp.status_code == 201, resp.get_json()
    item = resp.get_json()["items"][0]
    assert (item["kind"], item["product"], item["quantity"]) == ("renewal", "II", 2)
    assert (item["start_date"], item["end_date"]) == ("2027-01-31", "2028-01-31")
    assert item["unit_price"] == "72.00"  # renewal 80.00 less 10%
    assert (item["team_id"], item["subscription_pack"]) == ("T-1", "SP-000001")
    assert item["license_ids"] == ["L-1", "L-2"]
    # Renewals can be co-termed too, even under a year.
    item = demo_client.patch(f"{ITEMS}/{item['id']}", json={"end_date": "2027-06-30"}).get_json()[
        "items"
    ][0]
    assert item["fallback_eligible"] is False and item["unit_price"] == "29.59"  # 72*150/365


def test_upgrade_and_downgrade_lines(demo_client, licenses):
    licenses.add(demo.ACME_ID, "L-1", "II", (TODAY + dt.timedelta(days=73)).isoformat())
    licenses.add(demo.ACME_ID, "L-9", "ALL", "2027-03-01")
    up = add(demo_client, kind="upgrade", license_ids=["L-1"], product="ALL", term_years=1)
    assert up.status_code == 201, up.get_json()
    item = up.get_json()["items"][0]
    assert (item["product"], item["start_date"]) == ("ALL", TODAY.isoformat())
    assert item["end_date"] == (TODAY + dt.timedelta(days=73)).isoformat()
    assert item["unit_price"] == "36.00"  # (270 - 90) * 73 / 365
    down = add(demo_client, kind="downgrade", license_ids=["L-9"], product="PC", term_years=1)
    assert down.status_code == 201, down.get_json()
    item = down.get_json()["items"][1]
    assert (item["product"], item["start_date"], item["end_date"]) == (
        "PC",
        "2027-03-01",
        "2028-03-01",
    )
    assert item["unit_price"] == "36.00"  # PC renewal 40.00 less 10%


def test_a_renewal_after_an_ordered_downgrade_renews_the_downgraded_product(demo_client, licenses):
    licenses.add(demo.ACME_ID, "L-9", "ALL", "2028-05-14", pending_product="PC")
    resp = add(demo_client, kind="renewal", license_ids=["L-9"], term_years=1)
    assert resp.status_code == 201, resp.get_json()
    item = resp.get_json()["items"][0]
    assert (item["product"], item["start_date"]) == ("PC", "2028-05-14")
    assert item["unit_price"] == "36.00"  # PC renewal 40.00 less 10%, not All Products Pack
    asked_for_all = add(demo_client, kind="renewal", license_ids=["L-9"], product="ALL")
    assert asked_for_all.status_code == 422
    assert "product" in asked_for_all.get_json()["errors"]


def test_what_the_rules_forbid_is_refused(demo_client, licenses):
    licenses.add(demo.ACME_ID, "L-OLD", "II", "2026-10-01", status="expired")
    licenses.add(demo.ACME_ID, "L-PC", "PC", "2027-05-01")
    licenses.add(demo.GLOBEX_ID, "L-GLOBEX", "II", "2027-05-01")
    cases = [
        ({"kind": "upgrade", "license_ids": ["L-OLD"], "product": "ALL"}, "license_ids"),
        ({"kind": "downgrade", "license_ids": ["L-PC"], "product": "II"}, "license_ids"),
        ({"kind": "renewal", "license_ids": ["L-GLOBEX"]}, "license_ids"),
        ({"kind": "renewal", "license_ids": ["L-PC"], "product": "II"}, "product"),
        ({"kind": "renewal", "license_ids": ["L-PC"], "quantity": 3}, "quantity"),
    ]
    for body, field in cases:
        resp = add(demo_client, **body)
        assert resp.status_code == 422, body
        assert field in resp.get_json()["errors"], body


def test_a_license_goes_into_one_line_of_a_cart_only(demo_client, licenses):
    licenses.add(demo.ACME_ID, "L-1", "II", "2027-01-31")
    licenses.add(demo.ACME_ID, "L-2", "II", "2027-01-31")
    assert add(demo_client, kind="renewal", license_ids=["L-1", "L-2"]).status_code == 201
    for body in (
        {"kind": "renewal", "license_ids": ["L-1"]},
        {"kind": "upgrade", "license_ids": ["L-2"], "product": "ALL"},
    ):
        again = add(demo_client, **body)
        assert again.status_code == 422, body
        assert "L-" in again.get_json()["errors"]["license_ids"][0]
    cart = demo_client.get(CART).get_json()
    assert [i["license_ids"] for i in cart["items"]] == [["L-1", "L-2"]]
    assert cart["total"] == "144.00"  # charged once: 2 x 72.00


# -- pricing for orders, and closing on order placed ---------------------------------------------


def test_internal_pricing_answers_order_placed_lines(demo_client):
    body = {
        "customer_id": demo.ACME_ID,
        "lines": [
            {"kind": "new", "product": "II", "quantity": 2, "term_years": 1},
            {"kind": "new", "product": "PC", "quantity": 1, "end_date": "2027-02-14"},
        ],
    }
    resp = demo_client.post("/internal/pricing", json=body)
    assert resp.status_code == 200, resp.get_json()
    priced = resp.get_json()
    # 2 x 90.00 + 45 * 84 / 365; without a billing address, at the seller's (Dutch) 21 %.
    assert (priced["currency"], priced["subtotal"]) == ("USD", "190.36")
    assert priced["tax"] == [{"rate": "21", "amount": "39.98", "note": "VAT 21 % (NL)"}]
    assert priced["total"] == "230.34"
    outside = demo_client.post(
        "/internal/pricing",
        json={**body, "billing_address": {"line1": "1 Main St", "city": "Austin", "country": "US"}},
    ).get_json()
    assert (outside["subtotal"], outside["total"]) == ("190.36", "190.36")
    assert outside["tax"][0]["note"].startswith("Outside the scope of EU VAT")
    example = portal_contracts.example("orders.order.placed")
    portal_contracts.validate_payload(
        "orders.order.placed", {**example, "lines": priced["lines"], "total": priced["total"]}
    )
    assert priced["lines"][1]["fallback_eligible"] is False

    bad = demo_client.post(
        "/internal/pricing",
        json={
            "customer_id": demo.ACME_ID,
            "lines": [{"kind": "new", "product": "X", "quantity": 1}],
        },
    )
    assert bad.status_code == 422
    assert "product" in bad.get_json()["errors"]["lines"]["0"]
    foreign = demo_client.post("/internal/pricing", json={**body, "customer_id": demo.GLOBEX_ID})
    assert foreign.status_code == 404


def test_internal_pricing_refuses_a_license_in_two_lines(demo_client, licenses):
    licenses.add(demo.ACME_ID, "L-1", "II", "2027-01-31")
    twice = demo_client.post(
        "/internal/pricing",
        json={
            "customer_id": demo.ACME_ID,
            "lines": [
                {"kind": "renewal", "license_ids": ["L-1"]},
                {"kind": "renewal", "license_ids": ["L-1"], "term_years": 2},
            ],
        },
    )
    assert twice.status_code == 422
    assert list(twice.get_json()["errors"]["lines"]) == ["1"]
    assert "license_ids" in twice.get_json()["errors"]["lines"]["1"]


def placed(source: dict, order_number="O-2026-000042") -> dict:
    payload = portal_contracts.example("orders.order.placed")
    return {**payload, "order_number": order_number, "source": source}


def test_order_placed_from_the_cart_closes_it(cart_quote, demo_client):
    cart = add(demo_client, product="II", quantity=1).get_json()
    evt = event("orders.order.placed", placed({"kind": "cart", "reference": cart["id"]}))
    assert deliver(cart_quote, evt) is True
    assert demo_client.get(CART).get_json()["items"] == []
    add(demo_client, product="PC", quantity=1)
    assert deliver(cart_quote, evt) is False  # the duplicate is dropped by the inbox
    # ...and a replay under a new message id is guarded too: the new cart stays.
    deliver(
        cart_quote, event("orders.order.placed", placed({"kind": "cart", "reference": cart["id"]}))
    )
    assert demo_client.get(CART).get_json()["items"][0]["product"] == "PC"


def test_now_is_fixed(clock):
    assert clock.now() == NOW


def test_the_sweep_closes_idle_carts_only(cart_quote, clock, demo_client, acme_client):
    from cart_quote.jobs import expire_idle_carts

    add(demo_client, product="II", quantity=1)
    clock.advance(days=5)
    add(acme_client, product="PC", quantity=1)
    clock.advance(days=3)
    assert expire_idle_carts(cart_quote) == 1  # the reseller's, idle for eight days
    assert expire_idle_carts(cart_quote) == 0
    assert demo_client.get(CART).get_json()["items"] == []
    assert len(acme_client.get(CART).get_json()["items"]) == 1


def test_an_upgrade_waiting_in_the_cart_charges_only_the_days_left(clock, demo_client, licenses):
    licenses.add(demo.ACME_ID, "L-1", "II", (TODAY + dt.timedelta(days=73)).isoformat())
    add(demo_client, kind="upgrade", license_ids=["L-1"], product="ALL")
    clock.advance(days=3)
    item = demo_client.get(CART).get_json()["items"][0]
    assert item["start_date"] == (TODAY + dt.timedelta(days=3)).isoformat()
    assert item["unit_price"] == "34.52"  # (270 - 90) * 70 / 365


def test_a_cart_asked_for_with_a_vat_id_but_no_country_names_the_country(demo_client):
    add(demo_client, product="PC", quantity=1, term_years=1)
    resp = demo_client.get(CART, query_string={"vat_id": "000"})
    assert resp.status_code == 422, resp.get_json()
    assert "country" in resp.get_json()["errors"]
    # An empty VAT ID is no VAT ID: the cart is shown, net, as without a query.
    resp = demo_client.get(CART, query_string={"vat_id": ""})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["tax"] == []


def test_a_cart_before_the_price_list_arrives_is_a_503_to_retry(tmp_path, clock, demo_client):
    from cart_quote.bootstrap import bootstrap, create_app
    from cart_quote.config import CartQuoteConfig
    from portal_runtime.testkit import Api

    fresh = service_on_sqlite(
        bootstrap, CartQuoteConfig, "cart-quote", tmp_path / "new", clock=clock
    )
    api = Api(create_app(fresh), demo_client.identity)
    for resp in (api.get(CART), add(api, product="II", quantity=1)):
        assert resp.status_code == 503, resp.get_json()
        assert resp.headers["Retry-After"] == "5"
        assert resp.get_json()["detail"] == (
            "The USD price list has not reached this service yet; try again shortly."
        )
