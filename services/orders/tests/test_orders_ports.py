"""The HTTP adapters of orders' read ports, against small stand-ins served over real HTTP.

The stand-ins answer the routes of CONTRIBUTING.md ("Internal reads") only for a correctly
signed identity, and only with the caller's own data, as the real services do.
"""

from __future__ import annotations

import threading

import pytest
from flask import Flask, jsonify, request
from orders_testkit import ADDRESS, END_USER, FakeCarts, OrdersApi
from werkzeug.serving import make_server

from orders.bootstrap import bootstrap
from orders.config import OrdersConfig
from orders.ports import HttpCarts, HttpCustomers, HttpPaymentMethods, HttpPricing
from portal_contracts import demo
from portal_runtime import identity as ids
from portal_runtime.http import ServiceClient
from portal_runtime.testing import dev_keys, recorded
from portal_runtime.testkit import RESELLER, TODAY

# The stand-in serves several services' routes; each verifies as the service it stands in for.
AUDIENCES = {"/internal/customers": "license-assign", "/internal/payment-methods": "billing"}
KEYS = {name: dev_keys(name) for name in ("license-assign", "billing", "cart-quote")}


def verified_caller() -> ids.Identity | None:
    audience = next((a for p, a in AUDIENCES.items() if request.path.startswith(p)), "cart-quote")
    try:
        return ids.verify(
            request.headers.get(ids.HEADER),
            KEYS[audience],
            method=request.method,
            path=request.path,
            query=request.query_string,
            body_digest=ids.body_hash(request.get_data(cache=True)),
        )
    except ids.Refused:
        return None


def upstream(carts: FakeCarts, seen: list) -> Flask:
    app = Flask("upstream")

    def caller():
        who = verified_caller()
        seen.append((request.method, request.path, who, request.headers.get("X-Request-ID")))
        return who

    @app.get("/internal/customers/<cid>")
    def customer(cid):
        if caller() is None or cid != demo.ACME_ID:
            return {"title": "Not Found"}, 404
        return {
            "id": cid,
            "name": demo.ACME_NAME,
            "email": demo.ACME_CONTACT,
            "contacts": [demo.ACME_CONTACT],
            "admin_emails": [],
            "managing_reseller_ids": [demo.DEMO_RESELLER_ID],
        }

    @app.get("/internal/payment-methods/<mid>")
    def method(mid):
        who = caller()
        if who is None or who.tenant != RESELLER.tenant or mid != demo.DEMO_CARD_METHOD_ID:
            return {"title": "Not Found"}, 404
        return {"id": mid, "kind": "card", "status": "active"}

    @app.get("/customers/<cid>/cart")
    def cart(cid):
        who = caller()
        found = who and carts.cart(who, cid)
        return (found, 200) if found else ({"title": "Not Found"}, 404)

    @app.get("/quotes/<number>")
    def quote(number):
        who = caller()
        found = who and carts.quote(who, number)
        return (found, 200) if found else ({"title": "Not Found"}, 404)

    @app.post("/internal/pricing")
    def pricing():
        if caller() is None:
            return {"title": "Unauthorized"}, 401
        body = request.get_json()
        lines = []
        for n, line in enumerate(body["lines"], start=1):
            if line["product"] == "NOPE":
                return {"detail": "Unknown product.", "errors": {"lines": {"0": ["NOPE"]}}}, 422
            lines.append(
                {
                    "line_no": n,
                    "kind": line["kind"],
                    "product": line["product"],
                    "quantity": line["quantity"],
                    "term_years": 1,
                    "start_date": TODAY.isoformat(),
                    "end_date": line.get("end_date") or "2027-11-22",
                    "fallback_eligible": line.get("end_date") is None,
                    "team_id": None,
                    "subscription_pack": None,
                    "license_ids": [],
                    "unit_price": "50.00",
                    "amount": str(50 * line["quantity"]) + ".00",
                }
            )
        # Tax as cart-quote computes it for the billing address it was sent (here: 10 %).
        subtotal = sum(50 * line["quantity"] for line in body["lines"])
        tax = [{"rate": "10", "amount": f"{subtotal / 10:.2f}", "note": "VAT 10 % (XX)"}]
        if not body.get("billing_address"):
            tax = []
        total = f"{subtotal + sum(float(t['amount']) for t in tax):.2f}"
        return jsonify(
            currency="USD", subtotal=f"{subtotal:.2f}", tax=tax, total=total, lines=lines
        )

    return app


def over_http(tmp_path, clock, base_url: str, timeout: float):
    """The service on SQLite with its real HTTP adapters, all calling ``base_url``."""

    def client(name):
        return ServiceClient(name, "orders", dev_keys("orders"), timeout=timeout, base_url=base_url)

    config = OrdersConfig.from_env(
        "orders",
        database_url=f"sqlite:///{tmp_path / 'orders.db'}",
        broker_url="memory://",
    )
    service = bootstrap(
        config,
        clock=clock,
        customers=HttpCustomers(client("license-assign")),
        pricing=HttpPricing(client("cart-quote")),
        payment_methods=HttpPaymentMethods(client("billing")),
        carts=HttpCarts(client("cart-quote")),
    )
    service.migrate()
    return service


@pytest.fixture
def served(tmp_path, clock):
    carts, seen = FakeCarts(), []
    server = make_server("127.0.0.1", 0, upstream(carts, seen), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"

    service = over_http(tmp_path, clock, base, timeout=2.0)
    yield OrdersApi(service), carts, seen
    server.shutdown()
    service.engine.dispose()


def test_checkout_reads_the_cart_and_payment_method_as_the_user(served):
    api, carts, seen = served
    carts.fill(RESELLER, demo.ACME_ID)

    resp = api.checkout(RESELLER)

    assert resp.status_code == 201, resp.json
    assert resp.json["customer"]["name"] == demo.ACME_NAME
    by_path = {path: who for _, path, who, _ in seen}
    assert by_path[f"/customers/{demo.ACME_ID}/cart"].user_id == RESELLER.user_id
    assert by_path[f"/internal/payment-methods/{demo.DEMO_CARD_METHOD_ID}"] == RESELLER
    # The request's id travels on, so one id traces the checkout.
    assert len({rid for *_, rid in seen}) == 1
    assert recorded(api.service, "orders.order.placed")[0]["lines"][0]["product"] == "PC"


def test_ordering_a_quote_reads_it_as_the_user(served):
    api, carts, _ = served
    carts.issue_quote(RESELLER, number="Q-2026-000001")
    resp = api.call("POST", "/quotes/Q-2026-000001/order", RESELLER)
    assert resp.status_code == 201, resp.json
    assert api.call("POST", "/quotes/Q-2026-000404/order", RESELLER).status_code == 404


def test_a_direct_order_sends_its_lines_with_dates_to_pricing(served):
    api, _, _ = served
    body = {
        "customer_id": demo.ACME_ID,
        "lines": [{"kind": "new", "product": "II", "quantity": 2, "end_date": "2027-06-30"}],
        "end_user": END_USER,
        "po_number": "PO-1",
        "billing_address": ADDRESS,
    }
    resp = api.call("POST", "/orders", RESELLER, json=body)
    assert resp.status_code == 201, resp.json
    assert resp.json["lines"][0]["end_date"] == "2027-06-30"
    # The billing address went to pricing, and the tax computed for it is charged.
    assert (resp.json["subtotal"], resp.json["total"]) == ("100.00", "110.00")
    assert resp.json["tax"] == [{"rate": "10", "amount": "10.00", "note": "VAT 10 % (XX)"}]

    body["lines"][0]["product"] = "NOPE"
    resp = api.call("POST", "/orders", RESELLER, json=body)
    assert resp.status_code == 422
    assert resp.json["detail"] == "Unknown product."


def test_a_service_that_does_not_answer_is_a_503_and_no_order(tmp_path, clock):
    service = over_http(tmp_path, clock, "http://127.0.0.1:9", timeout=0.5)
    resp = OrdersApi(service).checkout(RESELLER, key="k")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "5"
    assert recorded(service, "orders.order.placed") == []
    service.engine.dispose()


def test_orders_placed_in_a_burst_read_the_customer_and_payment_method_once(served):
    api, _, seen = served
    body = {
        "customer_id": demo.ACME_ID,
        "lines": [{"kind": "new", "product": "PC", "quantity": 1}],
        "end_user": END_USER,
        "payment_method_id": demo.DEMO_CARD_METHOD_ID,
        "billing_address": ADDRESS,
    }
    for _ in range(3):
        assert api.call("POST", "/orders", RESELLER, json=body).status_code == 201
    paths = [path for _, path, _, _ in seen]
    assert paths.count(f"/internal/customers/{demo.ACME_ID}") == 1
    assert paths.count(f"/internal/payment-methods/{demo.DEMO_CARD_METHOD_ID}") == 1
    assert paths.count("/internal/pricing") == 3  # prices are asked every time

    # What was not found is asked again: a customer created a moment later is found then.
    unknown = dict(body, customer_id="C-404404")
    for _ in range(2):
        assert api.call("POST", "/orders", RESELLER, json=unknown).status_code == 404
    assert [path for _, path, _, _ in seen].count("/internal/customers/C-404404") == 2
