"""Payment methods: cards through the sandbox vault, PayPal by redirect, roles and tenancy."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from portal_contracts import demo
from portal_runtime.testkit import OTHER_RESELLER, Api, reseller


def vault(caller, number=demo.SUCCESS_CARD, expiry="12/29", cvc="123"):
    return caller.post(
        "/vault/cards", json={"number": number, "expiry": expiry, "cvc": cvc, "holder": "Pat"}
    )


def test_a_vaulted_card_is_stored_as_token_brand_last4_and_expiry(as_reseller):
    token = vault(as_reseller).get_json()["vault_token"]
    resp = as_reseller.post("/payment-methods", json={"kind": "card", "vault_token": token})
    assert resp.status_code == 201
    method = resp.get_json()
    assert method["kind"] == "card" and method["status"] == "active"
    assert (method["brand"], method["last4"], method["expiry"]) == ("visa", "1111", "12/29")
    assert resp.headers["Location"] == f"/api/v1/payment-methods/{method['id']}"
    [listed] = as_reseller.get("/payment-methods").get_json()["items"]
    assert listed["id"] == method["id"]
    internal = as_reseller.get(f"/internal/payment-methods/{method['id']}").get_json()
    assert internal == {"id": method["id"], "kind": "card", "status": "active"}


def test_the_vault_refuses_bad_cards_without_echoing_them(as_reseller):
    resp = vault(as_reseller, number="4111111111111112")
    assert resp.status_code == 422 and "number" in resp.get_json()["errors"]
    assert "4111111111111112" not in resp.get_data(as_text=True)
    assert "expiry" in vault(as_reseller, expiry="01/20").get_json()["errors"]
    assert "expiry" in vault(as_reseller, expiry="13/30").get_json()["errors"]
    assert "cvc" in vault(as_reseller, cvc="12").get_json()["errors"]
    assert vault(as_reseller, expiry="2030-06").status_code == 201


def test_a_token_of_another_tenant_cannot_be_stored(app, kit, as_reseller):
    token = vault(as_reseller).get_json()["vault_token"]
    other = Api(app, OTHER_RESELLER)
    resp = other.post("/payment-methods", json={"kind": "card", "vault_token": token})
    assert resp.status_code == 422


def test_a_method_can_be_removed_and_is_then_gone(as_reseller):
    token = vault(as_reseller).get_json()["vault_token"]
    method_id = as_reseller.post(
        "/payment-methods", json={"kind": "card", "vault_token": token}
    ).get_json()["id"]
    assert as_reseller.delete(f"/payment-methods/{method_id}").status_code == 204
    assert as_reseller.get("/payment-methods").get_json()["items"] == []
    assert as_reseller.get(f"/internal/payment-methods/{method_id}").status_code == 404
    assert as_reseller.delete(f"/payment-methods/{method_id}").status_code == 404


def test_other_tenants_neither_see_nor_remove_a_method(app, kit, as_reseller):
    token = vault(as_reseller).get_json()["vault_token"]
    method_id = as_reseller.post(
        "/payment-methods", json={"kind": "card", "vault_token": token}
    ).get_json()["id"]
    other = Api(app, OTHER_RESELLER)
    assert other.get("/payment-methods").get_json()["items"] == []
    assert other.delete(f"/payment-methods/{method_id}").status_code == 404
    assert other.get(f"/internal/payment-methods/{method_id}").status_code == 404


def test_sales_users_cannot_manage_methods_but_may_use_them(app, kit, as_reseller):
    token = vault(as_reseller).get_json()["vault_token"]
    method_id = as_reseller.post(
        "/payment-methods", json={"kind": "card", "vault_token": token}
    ).get_json()["id"]
    sales = Api(app, reseller(roles=("sales",)))
    assert sales.get("/payment-methods").status_code == 403
    assert (
        sales.post("/payment-methods", json={"kind": "card", "vault_token": token}).status_code
        == 403
    )
    assert sales.delete(f"/payment-methods/{method_id}").status_code == 403
    assert vault(sales).status_code == 403
    assert sales.get(f"/internal/payment-methods/{method_id}").get_json()["status"] == "active"


def test_request_bodies_reject_unknown_and_mismatched_fields(as_reseller):
    bad = as_reseller.post("/payment-methods", json={"kind": "card"})
    assert bad.status_code == 422 and "vault_token" in bad.get_json()["errors"]
    bad = as_reseller.post(
        "/payment-methods", json={"kind": "card", "vault_token": "x", "status": "active"}
    )
    assert bad.status_code == 422 and "status" in bad.get_json()["errors"]
    bad = as_reseller.post("/payment-methods", json={"kind": "paypal"})
    assert bad.status_code == 422 and "return_url" in bad.get_json()["errors"]


def test_paypal_sends_the_payer_back_only_to_the_portal_or_a_configured_host(service, as_reseller):
    for url in ("https://evil.example/cb", "https://portal.test.evil.example/", "//evil.example"):
        resp = as_reseller.post("/payment-methods", json={"kind": "paypal", "return_url": url})
        assert resp.status_code == 422, url
        assert "return_url" in resp.get_json()["errors"]
    service.config.paypal_return_hosts = ("shop.partner.example",)
    allowed = as_reseller.post(
        "/payment-methods",
        json={"kind": "paypal", "return_url": "https://shop.partner.example/paypal"},
    )
    assert allowed.status_code == 201


def test_paypal_is_set_up_by_redirect_and_approval(app, service, as_reseller):
    resp = as_reseller.post(
        "/payment-methods", json={"kind": "paypal", "return_url": "https://portal.test/back"}
    )
    assert resp.status_code == 201
    pending = resp.get_json()
    assert pending["status"] == "pending"
    redirect = urlsplit(pending["redirect_url"])
    assert redirect.path == "/api/v1/sandbox/paypal/approve"
    assert pending["redirect_url"].startswith("http://portal.test/api/v1/sandbox/paypal/approve")
    token = parse_qs(redirect.query)["token"][0]
    assert as_reseller.get(f"/internal/payment-methods/{pending['id']}").get_json()["status"] == (
        "pending"
    )

    browser = app.test_client()  # the payer's browser: no portal identity on the sandbox page
    page = browser.get(f"/sandbox/paypal/approve?token={token}")
    assert page.status_code == 200 and b"Approve" in page.data and b"<form" in page.data
    approved = browser.post(f"/sandbox/paypal/approve?token={token}")
    assert approved.status_code == 302
    assert approved.headers["Location"] == "https://portal.test/back"

    [method] = as_reseller.get("/payment-methods").get_json()["items"]
    assert method["status"] == "active" and method["email"].endswith("@sandbox.paypal.example")
    assert browser.get("/sandbox/paypal/approve?token=pp_nope").status_code == 404


def test_an_approved_paypal_method_pays_an_order(app, service, kit, as_reseller):
    from portal_runtime.testing import deliver, event, recorded

    pending = as_reseller.post(
        "/payment-methods", json={"kind": "paypal", "return_url": "https://portal.test/back"}
    ).get_json()
    token = parse_qs(urlsplit(pending["redirect_url"]).query)["token"][0]
    app.test_client().post(f"/sandbox/paypal/approve?token={token}")
    deliver(
        service,
        event(
            "orders.order.placed",
            kit.order_placed("O-2026-000001", kind="paypal", method_id=pending["id"]),
        ),
    )
    [issued] = recorded(service, "billing.invoice.issued")
    assert (issued["status"], issued["payment_type"]) == ("paid", "online")
    assert service.payments.charges() == 1


def test_seed_stores_the_demo_card_once(service):
    from billing.seed import seed

    seed(service)
    seed(service)
    from sqlalchemy import select

    from billing.models import PaymentMethod

    with service.sessions() as session:
        methods = list(session.scalars(select(PaymentMethod)))
    assert [(m.id, m.tenant, m.last4, m.status) for m in methods] == [
        (demo.DEMO_CARD_METHOD_ID, f"reseller:{demo.DEMO_RESELLER_ID}", "1111", "active")
    ]
    assert service.payments.charge(
        "card", methods[0].provider_token, 1, "USD", "seed-check"
    ).approved


def open_card_page(caller, return_url="https://portal.test/portal/account/card-return"):
    return caller.post("/vault/sessions", json={"return_url": return_url})


def test_the_vaults_own_card_page_takes_the_card_and_sends_back_a_token(app, as_reseller):
    resp = open_card_page(as_reseller)
    assert resp.status_code == 201
    url = urlsplit(resp.get_json()["url"])
    assert url.path == "/api/v1/sandbox/vault/card"
    session = parse_qs(url.query)["session"][0]
    browser = app.test_client()  # the user's browser on the vault's page: no portal identity
    page = browser.get(f"/sandbox/vault/card?session={session}")
    assert page.status_code == 200 and b'name="number"' in page.data
    card = {"number": "4111 1111 1111 1112", "expiry": "12/30", "cvc": "123", "holder": "Pat"}
    refused = browser.post(f"/sandbox/vault/card?session={session}", data=card)
    assert b"Not a valid card number." in refused.data
    assert b"4111 1111 1111 1112" not in refused.data and b'value="123"' not in refused.data
    done = browser.post(
        f"/sandbox/vault/card?session={session}", data={**card, "number": "5555555555554444"}
    )
    assert done.status_code == 303
    back = urlsplit(done.headers["Location"])
    assert back.netloc == "portal.test" and back.path == "/portal/account/card-return"
    token = parse_qs(back.query)["vault_token"][0]
    method = as_reseller.post("/payment-methods", json={"kind": "card", "vault_token": token})
    assert (method.get_json()["brand"], method.get_json()["last4"]) == ("mastercard", "4444")
    # The page is used up: a second card cannot be sent with the same session.
    assert browser.get(f"/sandbox/vault/card?session={session}").status_code == 404


def test_the_card_page_returns_only_to_the_portal(app, as_reseller):
    resp = open_card_page(as_reseller, "https://evil.example/steal")
    assert resp.status_code == 422 and "return_url" in resp.get_json()["errors"]
    assert app.test_client().get("/sandbox/vault/card?session=vs_nope").status_code == 404
