"""Placing orders: card checkout of a cart, ordering a quote, direct orders, customer admins."""

from __future__ import annotations

import datetime as dt

from orders_testkit import ADDRESS, END_USER

from portal_contracts import demo
from portal_runtime.testing import recorded
from portal_runtime.testkit import ACME_ADMIN, BILLING_CLERK, NOW, OTHER_RESELLER, RESELLER, TODAY


def test_card_checkout_places_a_paid_at_once_order_with_everything_downstream_needs(api, fakes):
    fakes.carts.fill(
        RESELLER,
        demo.ACME_ID,
        fakes.carts.item(product="PC", quantity=2, team_id="T-1", subscription_pack="SP-9"),
        fakes.carts.item(
            product="ALL",
            quantity=1,
            kind="upgrade",
            license_ids=["L-1"],
            end=TODAY + dt.timedelta(days=200),
            unit_price="300.00",
        ),
    )

    resp = api.checkout(RESELLER, key="k-1", po_number="PO-1", send_activation_email=True)

    assert resp.status_code == 201, resp.json
    order = resp.json
    assert resp.headers["Location"] == f"/api/v1/orders/{order['number']}"
    assert order["status"] == "placed"
    assert order["payment_kind"] == "card"
    assert order["payment_status"] == "pending"
    assert order["total"] == "748.20"
    assert order["customer"] == {
        "id": demo.ACME_ID,
        "name": demo.ACME_NAME,
        "email": demo.ACME_CONTACT,
    }
    assert order["source"] == {"kind": "cart", "reference": "cart-1"}
    assert order["portal_url"].endswith(f"/portal/orders/{order['number']}")

    [placed] = recorded(api.service, "orders.order.placed")
    assert placed["order_number"] == order["number"]
    assert placed["buyer"]["kind"] == "reseller"
    assert placed["reseller_id"] == demo.DEMO_RESELLER_ID
    assert placed["payment"] == {"kind": "card", "method_id": demo.DEMO_CARD_METHOD_ID}
    assert placed["po_number"] == "PO-1"
    assert placed["end_user"] == END_USER
    assert placed["send_activation_email"] is True
    assert placed["source"] == {"kind": "cart", "reference": "cart-1"}
    assert placed["portal_url"] == order["portal_url"]
    assert placed["billing_address"]["line1"] == ADDRESS["line1"]
    new, upgrade = placed["lines"]
    assert (new["kind"], new["product"], new["quantity"]) == ("new", "PC", 2)
    assert (new["team_id"], new["subscription_pack"]) == ("T-1", "SP-9")
    assert (new["unit_price"], new["amount"]) == ("224.10", "448.20")
    assert new["fallback_eligible"] is True
    assert (upgrade["kind"], upgrade["license_ids"]) == ("upgrade", ["L-1"])
    assert upgrade["end_date"] == (TODAY + dt.timedelta(days=200)).isoformat()
    assert upgrade["fallback_eligible"] is False


def test_checkout_of_an_empty_or_expired_cart_is_a_conflict(api, fakes):
    assert api.checkout(RESELLER).status_code == 409  # no cart at all

    fakes.carts.fill(RESELLER, demo.ACME_ID, items=[])
    fakes.carts.carts[(RESELLER.tenant, demo.ACME_ID)]["items"] = []
    resp = api.checkout(RESELLER)
    assert resp.status_code == 409
    assert "empty" in resp.json["detail"]

    fakes.carts.fill(RESELLER, demo.ACME_ID, expires_at=(NOW - dt.timedelta(hours=1)).isoformat())
    resp = api.checkout(RESELLER)
    assert resp.status_code == 409
    assert "expired" in resp.json["detail"]
    assert recorded(api.service, "orders.order.placed") == []


def test_checkout_needs_one_of_the_callers_own_payment_methods(api, fakes):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    resp = api.checkout(RESELLER, payment_method_id="pm-other-card")
    assert resp.status_code == 422
    assert "payment_method_id" in resp.json["errors"]

    body = {"billing_address": ADDRESS, "end_user": END_USER}
    resp = api.call("POST", f"/customers/{demo.ACME_ID}/cart/checkout", RESELLER, json=body)
    assert resp.status_code == 422
    assert "payment_method_id" in resp.json["errors"]


def test_checkout_rejects_unknown_fields_and_prices_from_the_body(api, fakes):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    resp = api.checkout(RESELLER, total="0.01")
    assert resp.status_code == 422
    assert "total" in resp.json["errors"]


def test_checkout_for_a_customer_outside_the_callers_scope_is_not_found(api, fakes):
    fakes.carts.fill(RESELLER, demo.GLOBEX_ID)
    resp = api.checkout(RESELLER, customer_id=demo.GLOBEX_ID)
    assert resp.status_code == 404


def test_a_billing_only_user_cannot_check_out(api, fakes):
    fakes.carts.fill(BILLING_CLERK, demo.ACME_ID)
    assert api.checkout(BILLING_CLERK).status_code == 403


def test_a_cart_already_ordered_cannot_be_ordered_again_under_another_key(api, fakes):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    first = api.checkout(RESELLER, key="first")
    assert first.status_code == 201
    # cart-quote has not yet seen orders.order.placed: the same cart is still there.
    second = api.checkout(RESELLER, key="second")
    assert second.status_code == 409
    assert first.json["number"] in second.json["detail"]
    assert len(recorded(api.service, "orders.order.placed")) == 1


def test_adding_to_a_cart_already_checked_out_does_not_order_it_again(api, fakes):
    cart = fakes.carts.fill(RESELLER, demo.ACME_ID, fakes.carts.item(product="PC"))
    first = api.checkout(RESELLER, key="first")
    assert first.status_code == 201
    # B goes into the same cart before cart-quote has seen the order and closed it.
    cart["items"].append(fakes.carts.item(product="WS", quantity=1))
    second = api.checkout(RESELLER, key="second")
    assert second.status_code == 409
    assert second.mimetype == "application/problem+json"
    assert first.json["number"] in second.json["detail"]
    [placed] = recorded(api.service, "orders.order.placed")
    assert [line["product"] for line in placed["lines"]] == ["PC"]
    # The same request again is still its own first answer.
    assert api.checkout(RESELLER, key="first").json == first.json


def test_ordering_a_quote_is_paid_later_by_invoice_against_its_po(api, fakes):
    fakes.carts.issue_quote(RESELLER, number="Q-2026-000123")

    resp = api.call("POST", "/quotes/Q-2026-000123/order", RESELLER, key="q-1")

    assert resp.status_code == 201, resp.json
    order = resp.json
    assert order["payment_kind"] == "po"
    assert order["payment_status"] == "invoiced"
    assert order["po_number"] == "PO-777"
    assert order["source"] == {"kind": "quote", "reference": "Q-2026-000123"}
    assert order["end_user"] == END_USER
    [placed] = recorded(api.service, "orders.order.placed")
    assert placed["payment"] == {"kind": "po", "method_id": None}
    assert placed["lines"][0]["product"] == "II"
    assert placed["billing_address"]["city"] == ADDRESS["city"]


def test_a_po_given_when_ordering_a_quote_replaces_the_quotes_own(api, fakes):
    fakes.carts.issue_quote(RESELLER, po_number=None)
    resp = api.call("POST", "/quotes/Q-2026-000123/order", RESELLER, json={})
    assert resp.status_code == 422
    assert "po_number" in resp.json["errors"]

    resp = api.call("POST", "/quotes/Q-2026-000123/order", RESELLER, json={"po_number": "PO-9"})
    assert resp.status_code == 201
    assert resp.json["po_number"] == "PO-9"


def test_only_an_open_unexpired_quote_of_ones_own_can_be_ordered(api, fakes):
    assert api.call("POST", "/quotes/Q-404/order", RESELLER).status_code == 404

    fakes.carts.issue_quote(RESELLER, number="Q-1", status="cancelled")
    resp = api.call("POST", "/quotes/Q-1/order", RESELLER)
    assert resp.status_code == 409
    assert "cancelled" in resp.json["detail"]

    fakes.carts.issue_quote(
        RESELLER, number="Q-2", valid_until=(TODAY - dt.timedelta(days=1)).isoformat()
    )
    assert api.call("POST", "/quotes/Q-2/order", RESELLER).status_code == 409

    fakes.carts.issue_quote(RESELLER, number="Q-3")
    assert api.call("POST", "/quotes/Q-3/order", RESELLER).status_code == 201
    # Ordered once; cart-quote closes it when it sees the event, but a retry is refused before.
    again = api.call("POST", "/quotes/Q-3/order", RESELLER)
    assert again.status_code == 409
    assert recorded(api.service, "orders.order.placed")[0]["source"]["reference"] == "Q-3"
    assert len(recorded(api.service, "orders.order.placed")) == 1


def test_a_direct_order_is_priced_by_cart_quote_and_needs_a_payment_or_a_po(api, fakes):
    body = {
        "customer_id": demo.GLOBEX_ID,  # managed by Demo Reseller: no grant needed
        "lines": [
            {"kind": "new", "product": "WS", "quantity": 3, "term_years": 1},
            {"kind": "renewal", "license_ids": ["L-7", "L-8"], "product": "WS"},
        ],
        "end_user": END_USER,
        "po_number": "PO-55",
    }
    resp = api.call("POST", "/orders", RESELLER, json=body, key="d-1")
    assert resp.status_code == 201, resp.json
    assert resp.json["payment_kind"] == "po"
    assert resp.json["total"] == "450.00"
    [placed] = recorded(api.service, "orders.order.placed")
    assert placed["customer"]["id"] == demo.GLOBEX_ID
    assert placed["lines"][1]["license_ids"] == ["L-7", "L-8"]
    assert placed["send_activation_email"] is True

    no_payment = {k: v for k, v in body.items() if k != "po_number"}
    resp = api.call("POST", "/orders", RESELLER, json=no_payment)
    assert resp.status_code == 422


def test_a_direct_order_for_a_customer_the_reseller_may_not_act_on_is_not_found(api):
    body = {
        "customer_id": demo.GLOBEX_ID,
        "lines": [{"kind": "new", "product": "WS", "quantity": 1}],
        "end_user": END_USER,
        "po_number": "PO-1",
    }

    resp = api.call("POST", "/orders", OTHER_RESELLER, json=body)
    assert resp.status_code == 404


def test_a_customer_admin_buys_for_its_own_account_into_a_new_team(api, fakes):
    fakes.carts.fill(
        ACME_ADMIN,
        demo.ACME_ID,
        fakes.carts.item(product="RM", quantity=5, team_name="Mobile"),
    )

    resp = api.checkout(ACME_ADMIN, payment_method_id="pm-acme-paypal", key="ca-1")

    assert resp.status_code == 201, resp.json
    order = resp.json
    assert order["buyer"]["kind"] == "customer"
    assert order["buyer"]["customer_id"] == demo.ACME_ID
    assert order["payment_kind"] == "paypal"
    assert order["lines"][0]["team_name"] == "Mobile"
    [placed] = recorded(api.service, "orders.order.placed")
    assert placed["reseller_id"] is None
    assert placed["buyer"] == {
        "kind": "customer",
        "reseller_id": None,
        "customer_id": demo.ACME_ID,
        "name": ACME_ADMIN.name,
        "email": ACME_ADMIN.email,
        "user_id": ACME_ADMIN.user_id,
    }
    assert placed["lines"][0]["team_name"] == "Mobile"
    assert placed["lines"][0]["team_id"] is None


def test_a_customer_admin_cannot_buy_for_another_account_or_with_a_resellers_card(api, fakes):
    fakes.carts.fill(ACME_ADMIN, demo.GLOBEX_ID)
    assert api.checkout(ACME_ADMIN, customer_id=demo.GLOBEX_ID).status_code == 404

    fakes.carts.fill(ACME_ADMIN, demo.ACME_ID)
    resp = api.checkout(ACME_ADMIN, payment_method_id=demo.DEMO_CARD_METHOD_ID)
    assert resp.status_code == 422
