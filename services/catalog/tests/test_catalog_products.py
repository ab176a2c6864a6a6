"""Catalog: products priced for the caller, price changes and discounts reaching the bus."""

from __future__ import annotations

import pytest

from catalog.bootstrap import bootstrap, create_app
from catalog.config import CatalogConfig
from catalog.seed import seed
from portal_contracts import demo
from portal_runtime.identity import service_identity
from portal_runtime.testing import recorded, service_on_sqlite
from portal_runtime.testkit import ACME_ADMIN, RESELLER, Api, reseller


@pytest.fixture
def catalog(tmp_path):
    service = service_on_sqlite(bootstrap, CatalogConfig, "catalog", tmp_path)
    seed(service)
    return service


OTHER_SALES = reseller(demo.OTHER_RESELLER_ID, roles=("sales",), currency="EUR")
OPS = service_identity("ops")


@pytest.fixture
def api(catalog):
    return Api(create_app(catalog), RESELLER)


def price(product: dict, term: int, kind: str) -> str:
    return next(
        p["amount"] for p in product["prices"] if p["term_years"] == term and p["kind"] == kind
    )


def test_seed_publishes_each_price_list_and_discount_once(catalog):
    books = recorded(catalog, "catalog.price_list.published")
    assert sorted(b["currency"] for b in books) == ["EUR", "USD"]
    usd = next(b for b in books if b["currency"] == "USD")
    assert [p["code"] for p in usd["products"]] == list(demo.PRODUCTS)
    all_pack = next(p for p in usd["products"] if p["code"] == "ALL")
    assert set(all_pack["includes"]) == {"II", "PC", "WS", "RM"}
    discounts = recorded(catalog, "catalog.partner_discount.changed")
    assert {d["reseller_id"]: d["percent"] for d in discounts} == {
        "RS-1001": "10.00",
        "RS-1002": "15.00",
    }

    seed(catalog)  # a second run changes nothing
    assert len(recorded(catalog)) == 4


def test_reseller_sees_prices_less_its_partner_discount(catalog, api):
    resp = api.get("/products")
    assert resp.status_code == 200
    items = {p["code"]: p for p in resp.get_json()["items"]}
    assert set(items) == set(demo.PRODUCTS)
    # II list 599.00 new, 479.20 renewal; Demo Reseller pays 10% less, half-up to cents.
    assert price(items["II"], 1, "new") == "539.10"
    assert price(items["II"], 1, "renewal") == "431.28"
    assert {p["currency"] for p in items["II"]["prices"]} == {"USD"}

    other = api.get("/products/II", identity=OTHER_SALES).get_json()
    assert price(other, 1, "new") == "509.15"  # 15% off, in EUR
    assert other["prices"][0]["currency"] == "EUR"

    own = api.get("/products/II", identity=ACME_ADMIN).get_json()
    assert price(own, 1, "new") == "599.00"  # a customer buying directly pays list price
    assert price(own, 2, "new") == "1078.20"


def test_unknown_product_and_missing_identity(catalog, api):
    assert api.get("/products/NOPE").status_code == 404
    assert api.get("/products", identity=None).status_code == 401


def test_price_change_publishes_the_new_price_list(catalog, api):
    body = {"currency": "USD", "prices": [{"term_years": 1, "kind": "new", "amount": "649.00"}]}
    assert (
        api.put(
            "/internal/prices/II",
            json=body,
        ).status_code
        == 404
    )
    resp = api.put("/internal/prices/II", json=body, identity=OPS)
    assert resp.status_code == 200
    books = recorded(catalog, "catalog.price_list.published")
    assert len(books) == 3
    ii = next(p for p in books[-1]["products"] if p["code"] == "II")
    assert price(ii, 1, "new") == "649.00"
    # Setting the same price again publishes nothing.
    api.put("/internal/prices/II", json=body, identity=OPS)
    assert len(recorded(catalog, "catalog.price_list.published")) == 3
    after = api.get("/products/II").get_json()
    assert price(after, 1, "new") == "584.10"


def test_partner_discount_change_is_published(catalog, api):
    resp = api.put(
        "/internal/partner-discounts/RS-1001",
        json={"percent": "12.5"},
        identity=OPS,
    )
    assert resp.status_code == 200
    assert recorded(catalog, "catalog.partner_discount.changed")[-1]["percent"] == "12.50"
    bad = api.put(
        "/internal/partner-discounts/RS-1001",
        json={"percent": "120"},
        identity=OPS,
    )
    assert bad.status_code == 422
    assert "percent" in bad.get_json()["errors"]


def test_a_new_product_needs_a_name_and_then_is_sold(catalog, api):
    body = {"currency": "USD", "prices": [{"term_years": 1, "kind": "new", "amount": "89.00"}]}
    resp = api.put("/internal/prices/DG", json=body, identity=OPS)
    assert resp.status_code == 422 and "name" in resp.get_json()["errors"]
    resp = api.put("/internal/prices/DG", json={**body, "name": "DataGrip"}, identity=OPS)
    assert resp.status_code == 200
    book = recorded(catalog, "catalog.price_list.published")[-1]
    assert book["products"][-1]["code"] == "DG"
    shown = api.get("/products/DG").get_json()
    assert shown["prices"] == [
        {"term_years": 1, "kind": "new", "amount": "80.10", "currency": "USD"}
    ]
    bad = api.put(
        "/internal/prices/DG",
        json={"currency": "USD", "prices": [{"term_years": 3, "kind": "new", "amount": "1"}]},
        identity=OPS,
    )
    assert bad.status_code == 422
