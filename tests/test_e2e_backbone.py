"""The first flow end to end, through the gateway only, and the delivery contract under failure.

An order placed through the gateway yields exactly one invoice for its total, one license per
seat in the customer's account, an order confirmation to the reseller and an activation e-mail to
the licensee; duplicates, a stopped broker and a relay killed mid-publish change none of that.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from portal_contracts import demo
from portal_system.client import wait_for
from portal_system.testing import login, mails_about, mails_to


def order_body(seats: int = 2, product: str = "PC") -> dict:
    tag = uuid.uuid4().hex[:8]
    return {
        "customer_id": demo.ACME_ID,
        "lines": [{"kind": "new", "product": product, "quantity": seats, "term_years": 1}],
        "payment_method_id": demo.DEMO_CARD_METHOD_ID,
        "end_user": {
            "first_name": "Ada",
            "last_name": f"Tester-{tag}",
            "email": f"ada.{tag}@acme.example",
        },
        "send_activation_email": True,
    }


def settled(client, number: str, seats: int, timeout: float = 90) -> dict:
    """The order once billing and licensing have both reported back."""

    def done():
        order = client.get(f"/orders/{number}").json()
        return order if order["invoice_number"] and len(order["license_ids"]) == seats else None

    return wait_for(done, timeout=timeout, what=f"invoice and {seats} licenses for {number}")


def assert_one_of_each_effect(system, client, order: dict, seats: int) -> None:
    number = order["number"]
    invoice = client.get(f"/invoices/{order['invoice_number']}").json()
    assert invoice["order_number"] == number
    assert Decimal(invoice["amount"]) == Decimal(order["total"])
    assert invoice["currency"] == order["currency"]
    invoices = client.get("/invoices", params={"number": order["invoice_number"]}).json()["items"]
    assert len(invoices) == 1
    licenses = client.get(f"/customers/{demo.ACME_ID}/licenses", params={"limit": 100}).json()
    ours = [lic for lic in licenses["items"] if lic["license_id"] in order["license_ids"]]
    assert len(ours) == seats
    assert {lic["product"] for lic in ours} == {order["lines"][0]["product"]}
    # One email per recipient and kind: a duplicate delivery must not add a second of any.
    reseller_mails = mails_about(system, demo.DEMO_RESELLER_USER, number)
    kinds = Counter(str(m["X-Portal-Template"]) for m in reseller_mails)
    assert kinds["order_confirmation"] == 1, kinds
    assert kinds["invoice_issued"] == 1, kinds
    assert set(kinds.values()) == {1}, kinds
    end_user_mails = mails_to(system, order["end_user"]["email"])
    assert [str(m["X-Portal-Template"]) for m in end_user_mails] == ["activation"]
    message_ids = [m["Message-ID"] for m in reseller_mails + end_user_mails]
    assert len(set(message_ids)) == len(message_ids)


def wait_for_mails(system, order: dict) -> None:
    number = order["number"]
    wait_for(lambda: mails_to(system, order["end_user"]["email"]), what="activation e-mail")
    wait_for(
        lambda: (
            {"order_confirmation", "invoice_issued"}
            <= {
                str(m["X-Portal-Template"])
                for m in mails_about(system, demo.DEMO_RESELLER_USER, number)
            }
        ),
        what="order confirmation and invoice mail",
    )


def enter(client) -> None:
    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)


def test_an_order_placed_through_the_gateway_yields_its_invoice_licenses_and_emails(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    enter(client)
    resp = client.place_order(order_body(seats=3))
    assert resp.status_code == 201, resp.text
    placed = resp.json()
    assert resp.headers["Location"].endswith(f"/orders/{placed['number']}")
    order = settled(client, placed["number"], 3)
    wait_for_mails(system, order)
    assert_one_of_each_effect(system, client, order, 3)
    invoice = client.get(f"/invoices/{order['invoice_number']}").json()
    assert invoice["status"] == "paid"
    # The lines are net; the invoice charges them plus the order's tax, to the cent.
    net = sum(Decimal(line["amount"]) for line in order["lines"])
    tax = sum(Decimal(t["amount"]) for t in order["tax"])
    assert Decimal(order["subtotal"]) == net
    assert Decimal(invoice["amount"]) == net + tax == Decimal(order["total"])


def test_the_same_order_event_delivered_twice_has_one_invoice_one_set_of_licenses_one_email(
    system,
):
    client = login(system, demo.DEMO_RESELLER_USER)
    enter(client)
    order = settled(client, client.place_order(order_body(seats=2)).json()["number"], 2)
    wait_for_mails(system, order)
    # Make the orders relay publish the order's event a second time, as after a lost confirm.
    orders_db = create_engine(system.env["ORDERS_DATABASE_URL"])
    with orders_db.begin() as conn:
        republished = conn.execute(
            text(
                "UPDATE outbox SET published_at = NULL WHERE type = 'orders.order.placed' "
                "AND payload->>'order_number' = :n"
            ),
            {"n": order["number"]},
        ).rowcount
    orders_db.dispose()
    assert republished == 1
    wait_for(lambda: _published_again(system, order["number"]), what="republish")
    time.sleep(3)  # the duplicate reaches billing, licensing and notifications
    assert_one_of_each_effect(system, client, order, 2)


def _published_again(system, number: str) -> bool:
    engine = create_engine(system.env["ORDERS_DATABASE_URL"])
    with engine.connect() as conn:
        pending = conn.execute(
            text(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL "
                "AND payload->>'order_number' = :n"
            ),
            {"n": number},
        ).scalar()
    engine.dispose()
    return pending == 0


def rabbitmq(command: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", command], check=True, timeout=120, capture_output=True)


# Every other test that uses RabbitMQ would see it stop: `make test` runs this one on its own.
@pytest.mark.stops_broker
def test_orders_placed_while_the_broker_is_down_are_answered_and_delivered_later(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    enter(client)
    rabbitmq("stop_app")
    try:
        placed = []
        for _ in range(3):
            resp = client.place_order(order_body(seats=1))
            assert resp.status_code == 201, resp.text
            placed.append(resp.json()["number"])
        time.sleep(2)
        for number in placed:
            assert client.get(f"/orders/{number}").json()["invoice_number"] is None
    finally:
        rabbitmq("start_app")
        subprocess.run(["rabbitmqctl", "-q", "await_startup"], timeout=120, check=False)
    for number in placed:
        order = settled(client, number, 1, timeout=120)
        wait_for_mails(system, order)
        assert_one_of_each_effect(system, client, order, 1)


def test_a_relay_killed_after_publishing_and_before_marking_still_gives_one_effect(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    enter(client)
    system.stop_process("orders-worker")
    system.start_process("orders-worker", {"RELAY_FAULT": "exit_after_publish"})
    try:
        resp = client.place_order(order_body(seats=2))
        assert resp.status_code == 201
        number = resp.json()["number"]
        crashed = system.processes["orders-worker"]
        assert crashed.wait(timeout=60) == 17
    finally:
        system.stop_process("orders-worker")
        system.start_process("orders-worker")
    order = settled(client, number, 2)
    wait_for_mails(system, order)
    time.sleep(3)
    assert_one_of_each_effect(system, client, order, 2)


@pytest.mark.timeout(600)
def test_the_first_flow_on_the_embedded_default(embedded_system):
    client = login(embedded_system, demo.DEMO_RESELLER_USER)
    enter(client)
    resp = client.place_order(order_body(seats=2))
    assert resp.status_code == 201, resp.text
    order = settled(client, resp.json()["number"], 2)
    wait_for_mails(embedded_system, order)
    assert_one_of_each_effect(embedded_system, client, order, 2)
    assert list((embedded_system.var_dir / "bus").glob("**/*")), "the filesystem bus was used"
