"""Idempotency-Key on placement: replays, another body, tenants, and how long keys live."""

from __future__ import annotations

from sqlalchemy import func, select

from orders import jobs
from orders.models import IdempotencyKey, Order
from portal_contracts import demo
from portal_runtime.testing import deliver, event, recorded
from portal_runtime.testkit import ACME_ADMIN, OTHER_RESELLER, RESELLER


def _count_orders(service) -> int:
    with service.sessions() as session:
        return session.scalar(select(func.count()).select_from(Order))


def test_a_replayed_checkout_answers_the_same_order_with_the_same_status_and_body(api, fakes):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    first = api.checkout(RESELLER, key="checkout-1")
    assert first.status_code == 201
    # Billing moves on meanwhile; the replay still answers exactly what the first call got.
    deliver(
        api.service,
        event(
            "billing.invoice.issued",
            {
                "invoice_number": "INV-1",
                "order_number": first.json["number"],
                "reseller_id": demo.DEMO_RESELLER_ID,
                "buyer": first.json["buyer"],
                "customer": first.json["customer"],
                "amount": first.json["total"],
                "currency": "USD",
                "status": "paid",
                "payment_type": "online",
                "issued_on": "2026-11-22",
                "due_date": "2026-11-22",
            },
        ),
    )

    again = api.checkout(RESELLER, key="checkout-1")

    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert _count_orders(api.service) == 1
    assert len(recorded(api.service, "orders.order.placed")) == 1


def test_the_same_key_with_another_body_is_refused(api, fakes):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    assert api.checkout(RESELLER, key="k").status_code == 201

    resp = api.checkout(RESELLER, key="k", po_number="PO-other")

    assert resp.status_code == 422
    assert "Idempotency-Key" in resp.json["errors"]
    assert _count_orders(api.service) == 1


def test_the_same_key_on_another_route_is_another_request(api, fakes):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    assert api.checkout(RESELLER, key="k").status_code == 201
    fakes.carts.issue_quote(RESELLER)
    resp = api.call("POST", "/quotes/Q-2026-000123/order", RESELLER, key="k")
    assert resp.status_code == 422


def test_another_reseller_using_the_same_key_gets_its_own_order(api, fakes):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    fakes.carts.fill(OTHER_RESELLER, demo.ACME_ID, cart_id="cart-2")

    mine = api.checkout(RESELLER, key="shared-key")
    theirs = api.checkout(OTHER_RESELLER, key="shared-key", payment_method_id="pm-other-card")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json["number"] != theirs.json["number"]
    assert theirs.json["buyer"]["reseller_id"] == demo.OTHER_RESELLER_ID
    # Each replays its own.
    assert api.checkout(RESELLER, key="shared-key").json["number"] == mine.json["number"]


def test_a_customer_admins_keys_are_its_own(api, fakes):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    fakes.carts.fill(ACME_ADMIN, demo.ACME_ID, cart_id="cart-admin")
    reseller = api.checkout(RESELLER, key="same")
    admin = api.checkout(ACME_ADMIN, key="same", payment_method_id="pm-acme-paypal")
    assert reseller.status_code == admin.status_code == 201
    assert reseller.json["number"] != admin.json["number"]


def test_a_failed_placement_does_not_use_up_the_key(api, fakes):
    resp = api.checkout(RESELLER, key="retry-me")  # empty cart
    assert resp.status_code == 409
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    assert api.checkout(RESELLER, key="retry-me").status_code == 201


def test_placing_an_order_without_a_key_is_refused_and_places_nothing(api, fakes):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    fakes.carts.issue_quote(RESELLER, number="Q-2026-000123")
    body = {
        "customer_id": demo.ACME_ID,
        "lines": [{"kind": "new", "product": "WS", "quantity": 1}],
        "end_user": {"first_name": "A", "last_name": "B", "email": "a@acme.example"},
        "po_number": "PO-1",
    }
    for resp in (
        api.checkout(RESELLER, key=False),
        api.call("POST", "/quotes/Q-2026-000123/order", RESELLER, key=False),
        api.call("POST", "/orders", RESELLER, json=body, key=False),
    ):
        assert resp.status_code == 422
        assert "Idempotency-Key" in resp.json["errors"]
    assert _count_orders(api.service) == 0
    assert recorded(api.service, "orders.order.placed") == []


def test_an_overlong_key_is_refused(api, fakes):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    resp = api.checkout(RESELLER, key="x" * 201)
    assert resp.status_code == 422
    assert "Idempotency-Key" in resp.json["errors"]


def test_keys_live_at_least_a_day_and_the_job_forgets_them_after_the_configured_hours(
    api, fakes, clock
):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    first = api.checkout(RESELLER, key="old")
    assert api.service.config.idempotency_hours == 48

    clock.advance(hours=47)
    assert jobs.forget_expired_keys(api.service) == 0
    assert api.checkout(RESELLER, key="old").json == first.json

    clock.advance(hours=2)
    [job] = [j for j in api.service.jobs if j.name == "forget-idempotency-keys"]
    job.run(api.service)
    with api.service.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_keys_are_kept_24_hours_even_if_configured_shorter(api, fakes, clock):
    fakes.carts.fill(RESELLER, demo.ACME_ID)
    api.checkout(RESELLER, key="short")
    api.service.config.idempotency_hours = 1
    clock.advance(hours=23)
    assert jobs.forget_expired_keys(api.service) == 0
    clock.advance(hours=2)
    assert jobs.forget_expired_keys(api.service) == 1
