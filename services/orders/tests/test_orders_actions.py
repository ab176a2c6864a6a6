"""From an order: resend licenses, the activation e-mail, cancellation within the window."""

from __future__ import annotations

import pytest
from orders_testkit import licenses_issued

from portal_contracts import demo
from portal_runtime.testing import deliver, recorded
from portal_runtime.testkit import ACME_ADMIN, BILLING_CLERK, OTHER_RESELLER, RESELLER


@pytest.fixture
def order(api, fakes) -> dict:
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    resp = api.checkout(RESELLER, key="o-1", po_number="PO-42")
    assert resp.status_code == 201
    return resp.json


def test_resend_licenses_asks_for_the_license_emails_again(api, order):
    deliver(api.service, licenses_issued(order["number"], "L-1", "L-2"))

    resp = api.call("POST", f"/orders/{order['number']}/resend-licenses", RESELLER)

    assert resp.status_code == 202
    assert resp.json["license_ids"] == ["L-1", "L-2"]
    [requested] = recorded(api.service, "orders.licenses.resend_requested")
    assert requested["order_number"] == order["number"]
    assert requested["license_ids"] == ["L-1", "L-2"]
    assert requested["end_user"]["email"] == "ada@acme.example"
    assert requested["buyer"]["reseller_id"] == demo.DEMO_RESELLER_ID
    # Each request is a new resend.
    api.call("POST", f"/orders/{order['number']}/resend-licenses", RESELLER)
    assert len(recorded(api.service, "orders.licenses.resend_requested")) == 2


def test_resend_before_the_licenses_exist_is_a_conflict(api, order):
    resp = api.call("POST", f"/orders/{order['number']}/resend-licenses", RESELLER)
    assert resp.status_code == 409
    assert recorded(api.service, "orders.licenses.resend_requested") == []


def test_the_activation_email_is_requested_for_the_customer(api, order):
    deliver(api.service, licenses_issued(order["number"], "L-1"))
    resp = api.call("POST", f"/orders/{order['number']}/activation-email", RESELLER)
    assert resp.status_code == 202
    assert resp.json["recipient"] == "ada@acme.example"
    [requested] = recorded(api.service, "orders.activation_email.requested")
    assert requested["license_ids"] == ["L-1"]
    assert requested["customer"]["id"] == demo.ACME_ID


def test_an_order_can_be_cancelled_within_seven_days(api, order, clock):
    deliver(api.service, licenses_issued(order["number"], "L-1", "L-2"))
    clock.advance(days=6, hours=23)

    resp = api.call(
        "POST", f"/orders/{order['number']}/cancel", RESELLER, json={"reason": "wrong product"}
    )

    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "cancelled"
    assert resp.json["cancelled_at"] is not None
    assert api.get(f"/orders/{order['number']}", RESELLER).json["status"] == "cancelled"
    [cancelled] = recorded(api.service, "orders.order.cancelled")
    assert cancelled["order_number"] == order["number"]
    assert cancelled["license_ids"] == ["L-1", "L-2"]
    assert cancelled["reason"] == "wrong product"
    assert cancelled["po_number"] == "PO-42"
    assert cancelled["reseller_id"] == demo.DEMO_RESELLER_ID


def test_cancelling_twice_is_a_conflict_and_publishes_once(api, order):
    assert api.call("POST", f"/orders/{order['number']}/cancel", RESELLER).status_code == 200
    resp = api.call("POST", f"/orders/{order['number']}/cancel", RESELLER)
    assert resp.status_code == 409
    assert len(recorded(api.service, "orders.order.cancelled")) == 1
    # Nor can a cancelled order's licenses be resent.
    resend = api.call("POST", f"/orders/{order['number']}/resend-licenses", RESELLER)
    assert resend.status_code == 409


def test_after_seven_days_an_order_cannot_be_cancelled(api, order, clock):
    clock.advance(days=7, seconds=1)
    resp = api.call("POST", f"/orders/{order['number']}/cancel", RESELLER)
    assert resp.status_code == 409
    assert "7 days" in resp.json["detail"]
    assert recorded(api.service, "orders.order.cancelled") == []
    assert api.get(f"/orders/{order['number']}", RESELLER).json["status"] == "placed"


def test_a_cancellation_of_a_renewal_names_the_renewed_licenses(api, fakes):
    fakes.carts.fill(
        RESELLER, demo.ACME_ID, fakes.carts.item(kind="renewal", license_ids=["L-9"], quantity=1)
    )
    number = api.checkout(RESELLER).json["number"]
    api.call("POST", f"/orders/{number}/cancel", RESELLER)
    assert recorded(api.service, "orders.order.cancelled")[0]["license_ids"] == ["L-9"]


def test_actions_on_another_resellers_order_are_not_found(api, order):
    for action in ("resend-licenses", "activation-email", "cancel"):
        resp = api.call("POST", f"/orders/{order['number']}/{action}", OTHER_RESELLER)
        assert resp.status_code == 404, action
        resp = api.call("POST", f"/orders/{order['number']}/{action}", ACME_ADMIN)
        assert resp.status_code == 404, action
    assert api.get(f"/orders/{order['number']}", OTHER_RESELLER).status_code == 404


def test_a_billing_only_user_may_read_but_not_cancel(api, order):
    assert api.get(f"/orders/{order['number']}", BILLING_CLERK).status_code == 200
    assert api.call("POST", f"/orders/{order['number']}/cancel", BILLING_CLERK).status_code == 403
