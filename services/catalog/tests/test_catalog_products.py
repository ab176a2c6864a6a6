"""Catalog: products priced for the caller, price changes and discounts reaching the bus."""

from __future__ import annotations

import pytest

from catalog.bootstrap import bootstrap, create_app
from catalog.config import CatalogConfig
from catalog.seed import seed
from portal_contracts import demo
from portal_runtime.identity import HEADER, Identity, service_identity
from portal_runtime.testing import identity_header, recorded, service_on_sqlite


@pytest.fixture
def catalog(tmp_path):
    service = service_on_sqlite(bootstrap, CatalogConfig, "catalog", tmp_path)
    seed(service)
    return service


def headers(service, identity: Identity) -> dict:
    return {HEADER: identity_header(identity)}


DEMO_SALES = Identity(
    kind="reseller_user",
    user_id="U-1",
    email=demo.DEMO_RESELLER_USER,
    roles=("sales",),
    reseller_id=demo.DEMO_RESELLER_ID,
    reseller_name=demo.DEMO_RESELLER_NAME,
    currency="USD",
)
OTHER_SALES = Identity(
    kind="reseller_user",
    user_id="U-2",
    email=demo.OTHER_RESELLER_USER,
    roles=("sales",),
    reseller_id=demo.OTHER_RESELLER_ID,
    currency="EUR",
)
ACME_ADMIN = Identity(
    kind="customer_admin", user_id="A-1", email=demo.ACME_ADMIN, customer_id=demo.ACME_ID
)


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


def test_reseller_sees_prices_less_its_partner_discount(catalog):
    client = create_app(catalog).test_client()
    resp = client.get("/products", headers=headers(catalog, DEMO_SALES))
    assert resp.status_code == 200
    items = {p["code"]: p for p in resp.get_json()["items"]}
    assert set(items) == set(demo.PRODUCTS)
    # II list 599.00 new, 479.20 renewal; Demo Reseller pays 10% less, half-up to cents.
    assert price(items["II"], 1, "new") == "539.10"
    assert price(items["II"], 1, "renewal") == "431.28"
    assert {p["currency"] for p in items["II"]["prices"]} == {"USD"}

    other = client.get("/products/II", headers=headers(catalog, OTHER_SALES)).get_json()
    assert price(other, 1, "new") == "509.15"  # 15% off, in EUR
    assert other["prices"][0]["currency"] == "EUR"

    own = client.get("/products/II", headers=headers(catalog, ACME_ADMIN)).get_json()
    assert price(own, 1, "new") == "599.00"  # a customer buying directly pays list price
    assert price(own, 2, "new") == "1078.20"


def test_unknown_product_and_missing_identity(catalog):
    client = create_app(catalog).test_client()
    assert client.get("/products/NOPE", headers=headers(catalog, DEMO_SALES)).status_code == 404
    assert client.get("/products").status_code == 401


def test_price_change_publishes_the_new_price_list(catalog):
    client = create_app(catalog).test_client()
    body = {"currency": "USD", "prices": [{"term_years": 1, "kind": "new", "amount": "649.00"}]}
    assert (
        client.put(
            "/internal/prices/II", json=body, headers=headers(catalog, DEMO_SALES)
        ).status_code
        == 404
    )
    resp = client.put(
        "/internal/prices/II", json=body, headers=headers(catalog, service_identity("ops"))
    )
    assert resp.status_code == 200
    books = recorded(catalog, "catalog.price_list.published")
    assert len(books) == 3
    ii = next(p for p in books[-1]["products"] if p["code"] == "II")
    assert price(ii, 1, "new") == "649.00"
    # Setting the same price again publishes nothing.
    client.put("/internal/prices/II", json=body, headers=headers(catalog, service_identity("ops")))
    assert len(recorded(catalog, "catalog.price_list.published")) == 3
    after = client.get("/products/II", headers=headers(catalog, DEMO_SALES)).get_json()
    assert price(after, 1, "new") == "584.10"


def test_partner_discount_change_is_published(catalog):
    client = create_app(catalog).test_client()
    resp = client.put(
        "/internal/partner-discounts/RS-1001",
        json={"percent": "12.5"},
        headers=headers(catalog, service_identity("ops")),
    )
    assert resp.status_code == 200
    assert recorded(catalog, "catalog.partner_discount.changed")[-1]["percent"] == "12.50"
    bad = client.put(
        "/internal/partner-discounts/RS-1001",
        json={"percent": "120"},
        headers=headers(catalog, service_identity("ops")),
    )
    assert bad.status_code == 422
    assert "percent" in bad.get_json()["errors"]


def test_a_new_product_needs_a_name_and_then_is_sold(catalog):
    client = create_app(catalog).test_client()
    admin = headers(catalog, service_identity("ops"))
    body = {"currency": "USD", "prices": [{"term_years": 1, "kind": "new", "amount": "89.00"}]}
    resp = client.put("/internal/prices/DG", json=body, headers=admin)
    assert resp.status_code == 422 and "name" in resp.get_json()["errors"]
    resp = client.put("/internal/prices/DG", json={**body, "name": "DataGrip"}, headers=admin)
    assert resp.status_code == 200
    book = recorded(catalog, "catalog.price_list.published")[-1]
    assert book["products"][-1]["code"] == "DG"
    shown = client.get("/products/DG", headers=headers(catalog, DEMO_SALES)).get_json()
    assert shown["prices"] == [
        {"term_years": 1, "kind": "new", "amount": "80.10", "currency": "USD"}
    ]
    bad = client.put(
        "/internal/prices/DG",
        json={"currency": "USD", "prices": [{"term_years": 3, "kind": "new", "amount": "1"}]},
        headers=admin,
    )
    assert bad.status_code == 422
