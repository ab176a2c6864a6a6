"""What billing and license-assign tell orders, in any order, and a customer admin's journey."""

from __future__ import annotations

import pytest
from orders_testkit import licenses_issued

from portal_contracts import demo
from portal_runtime.testing import deliver, event, recorded
from portal_runtime.testkit import ACME_ADMIN, OTHER_RESELLER, RESELLER


@pytest.fixture
def order(api, fakes) -> dict:
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    return api.checkout(RESELLER).json


def invoice_issued(order: dict, status: str = "not_paid") -> object:
    return event(
        "billing.invoice.issued",
        {
            "invoice_number": "INV-2026-000001",
            "order_number": order["number"],
            "reseller_id": order["buyer"]["reseller_id"],
            "buyer": order["buyer"],
            "customer": order["customer"],
            "amount": order["total"],
            "currency": "USD",
            "status": status,
            "payment_type": "online",
            "issued_on": "2026-11-22",
            "due_date": "2026-11-22",
        },
    )


def payment_captured(order: dict) -> object:
    return event(
        "billing.payment.captured",
        {
            "invoice_number": "INV-2026-000001",
            "order_number": order["number"],
            "customer_id": order["customer"]["id"],
            "amount": order["total"],
            "currency": "USD",
            "captured_at": "2026-11-22T10:00:05+00:00",
            "method_kind": "card",
        },
    )


def payment_failed(order: dict, reason: str = "card declined") -> object:
    return event(
        "billing.payment.failed",
        {
            "invoice_number": "INV-2026-000001",
            "order_number": order["number"],
            "buyer": order["buyer"],
            "customer": order["customer"],
            "amount": order["total"],
            "currency": "USD",
            "failed_at": "2026-11-22T10:00:05+00:00",
            "reason": reason,
            "grace_until": "2026-11-29",
        },
    )


def shown(api, order: dict, identity=RESELLER) -> dict:
    return api.get(f"/orders/{order['number']}", identity).json


def test_the_order_shows_its_invoice_and_payment(api, order):
    assert shown(api, order)["invoice_number"] is None
    deliver(api.service, invoice_issued(order))
    deliver(api.service, payment_captured(order))
    view = shown(api, order)
    assert view["invoice_number"] == "INV-2026-000001"
    assert view["payment_status"] == "paid"


def test_a_failed_payment_shows_on_the_order_with_its_reason(api, order):
    deliver(api.service, invoice_issued(order))
    deliver(api.service, payment_failed(order, "insufficient funds"))
    view = shown(api, order)
    assert view["payment_status"] == "failed"
    assert view["payment_failure_reason"] == "insufficient funds"
    # Paying later clears it.
    deliver(api.service, payment_captured(order))
    view = shown(api, order)
    assert (view["payment_status"], view["payment_failure_reason"]) == ("paid", None)


def test_a_capture_before_the_invoice_still_leaves_the_order_paid(api, order):
    deliver(api.service, payment_captured(order))
    deliver(api.service, invoice_issued(order, status="not_paid"))
    view = shown(api, order)
    assert view["payment_status"] == "paid"
    assert view["invoice_number"] == "INV-2026-000001"


def test_a_late_failure_after_the_capture_does_not_unpay_the_order(api, order):
    deliver(api.service, payment_captured(order))
    deliver(api.service, payment_failed(order))
    assert shown(api, order)["payment_status"] == "paid"


def test_licenses_issued_show_on_the_order_once_even_if_redelivered(api, order):
    issued = licenses_issued(order["number"], "L-1", "L-2")
    assert deliver(api.service, issued) is True
    assert deliver(api.service, issued) is False
    # The same licenses reported again under a new message id change nothing either.
    deliver(api.service, licenses_issued(order["number"], "L-2", "L-1"))
    assert shown(api, order)["license_ids"] == ["L-1", "L-2"]


def test_an_invoice_for_an_unknown_order_is_not_silently_dropped(api):
    fake = {
        "number": "O-2026-999999",
        "buyer": {
            "kind": "reseller",
            "reseller_id": demo.DEMO_RESELLER_ID,
            "customer_id": None,
            "name": "x",
            "email": "x@example.com",
            "user_id": None,
        },
        "customer": {"id": demo.ACME_ID, "name": demo.ACME_NAME, "email": demo.ACME_CONTACT},
        "total": "1.00",
    }
    with pytest.raises(LookupError):
        api.service.consumer().handle(invoice_issued(fake))


def test_a_customer_admin_buys_into_a_new_team_renews_it_and_sees_no_resellers_data(api, fakes):
    # A reseller's order for the same customer exists; the admin must never see it.
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    resellers = api.checkout(RESELLER).json

    fakes.carts.fill(
        ACME_ADMIN,
        demo.ACME_ID,
        fakes.carts.item(product="II", quantity=2, team_name="Data Science"),
        cart_id="admin-cart-1",
    )
    bought = api.checkout(ACME_ADMIN, payment_method_id="pm-acme-paypal", key="buy").json
    assert bought["lines"][0]["team_name"] == "Data Science"
    deliver(api.service, licenses_issued(bought["number"], "L-DS-1", "L-DS-2"))

    # Renew: cart-quote reads the order (its license ids) and fills a renewal cart.
    read = shown(api, bought, ACME_ADMIN)
    assert read["license_ids"] == ["L-DS-1", "L-DS-2"]
    fakes.carts.fill(
        ACME_ADMIN,
        demo.ACME_ID,
        fakes.carts.item(product="II", kind="renewal", quantity=2, license_ids=read["license_ids"]),
        cart_id="admin-cart-2",
    )
    renewal = api.checkout(ACME_ADMIN, payment_method_id="pm-acme-paypal", key="renew")
    assert renewal.status_code == 201
    placed = recorded(api.service, "orders.order.placed")[-1]
    assert placed["buyer"]["kind"] == "customer"
    assert placed["lines"][0]["kind"] == "renewal"
    assert placed["lines"][0]["license_ids"] == ["L-DS-1", "L-DS-2"]

    mine = [o["number"] for o in api.get("/orders", ACME_ADMIN).json["items"]]
    assert mine == [renewal.json["number"], bought["number"]]
    assert api.get(f"/orders/{resellers['number']}", ACME_ADMIN).status_code == 404
    assert api.get("/orders", OTHER_RESELLER).json["items"] == []


def credit_note_issued(order: dict, refunded: bool) -> object:
    return event(
        "billing.credit_note.issued",
        {
            "credit_note_number": "CN-2026-000001",
            "invoice_number": "INV-2026-000001",
            "order_number": order["number"],
            "buyer": order["buyer"],
            "amount": order["total"],
            "currency": "USD",
            "refunded": refunded,
        },
    )


def test_a_cancelled_paid_order_shows_its_credit_note_and_refund(api, order):
    deliver(api.service, invoice_issued(order, status="paid"))
    assert api.call("POST", f"/orders/{order['number']}/cancel", RESELLER).status_code == 200
    deliver(api.service, credit_note_issued(order, refunded=True))
    view = shown(api, order)
    assert (view["status"], view["payment_status"]) == ("cancelled", "refunded")
    assert view["credit_note_number"] == "CN-2026-000001"
    # A capture reported late does not make a refunded order "paid" again.
    deliver(api.service, payment_captured(order))
    assert shown(api, order)["payment_status"] == "refunded"


def test_an_unpaid_cancelled_order_is_credited_whatever_order_billing_reports_in(api, order):
    api.call("POST", f"/orders/{order['number']}/cancel", RESELLER)
    deliver(api.service, credit_note_issued(order, refunded=False))
    deliver(api.service, payment_failed(order))
    deliver(api.service, invoice_issued(order, status="applied"))
    view = shown(api, order)
    assert view["payment_status"] == "credited"
    assert view["payment_failure_reason"] is None
    assert view["invoice_number"] == "INV-2026-000001"
