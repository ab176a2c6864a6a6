"""A reseller's whole journey through the gateway, on the real PostgreSQL and RabbitMQ.

Enter the customer, fill the cart, co-term a line, check out with the stored card, find the
order by each search key, find its licenses in the renewals search, renew them into the cart,
check out again: the same license IDs are a year longer. Plus a customer admin's own purchase.
"""

from __future__ import annotations

import datetime as dt
import uuid

from portal_contracts import demo
from portal_system.client import wait_for
from portal_system.testing import login, mails_about, text_of

ADDRESS = {
    "name": "Demo Reseller Inc.",
    "line1": "1 Main St",
    "city": "Springfield",
    "country": "US",
}


def end_user(tag: str) -> dict:
    return {
        "first_name": "Grace",
        "last_name": f"Journey-{tag}",
        "email": f"grace.{tag}@acme.example",
    }


def empty_cart(client, customer_id: str) -> None:
    """Other tests share this system: start from an empty cart."""
    for item in client.get(f"/customers/{customer_id}/cart").json()["items"]:
        resp = client.delete(f"/customers/{customer_id}/cart/items/{item['id']}")
        assert resp.status_code in (200, 204), resp.text


def add_to_cart(client, customer_id: str, item: dict) -> dict:
    resp = client.post(f"/customers/{customer_id}/cart/items", json=item)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def checkout(client, customer_id: str, key: str, **body) -> dict:
    resp = client.post(
        f"/customers/{customer_id}/cart/checkout",
        json={"billing_address": ADDRESS, **body},
        headers={"Idempotency-Key": key},
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def licenses_of(client, customer_id: str, license_ids: list[str]) -> dict[str, dict]:
    items = client.get(
        f"/customers/{customer_id}/licenses", params={"limit": 100, "product": "ALL"}
    ).json()["items"]
    return {lic["license_id"]: lic for lic in items if lic["license_id"] in license_ids}


def found(client, order_number: str, **params) -> bool:
    resp = client.get("/orders", params={"limit": 100, **params})
    assert resp.status_code == 200, resp.text
    return order_number in [o["number"] for o in resp.json()["items"]]


def test_checkout_search_renew_and_checkout_again_extends_the_same_licenses(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    empty_cart(client, demo.ACME_ID)
    tag = uuid.uuid4().hex[:8]
    today = dt.date.today()

    # Cart: two All Products Pack seats, co-termed to 300 days (no perpetual fallback). The pack
    # is renewable while active (a single product only offers an upgrade until it expires).
    cart = add_to_cart(
        client, demo.ACME_ID, {"kind": "new", "product": "ALL", "quantity": 2, "term_years": 1}
    )
    [item] = [i for i in cart["items"] if i["product"] == "ALL" and i["kind"] == "new"][-1:]
    coterm = (today + dt.timedelta(days=300)).isoformat()
    resp = client.patch(
        f"/customers/{demo.ACME_ID}/cart/items/{item['id']}", json={"end_date": coterm}
    )
    assert resp.status_code == 200, resp.text
    [item] = [i for i in resp.json()["items"] if i["id"] == item["id"]]
    assert (item["end_date"], item["custom_end_date"], item["fallback_eligible"]) == (
        coterm,
        True,
        False,
    )

    # Checkout with the stored card; a retry with the same key answers the same order.
    po = f"PO-{tag}"
    body = {
        "payment_method_id": demo.DEMO_CARD_METHOD_ID,
        "end_user": end_user(tag),
        "po_number": po,
        "send_activation_email": False,
    }
    order = checkout(client, demo.ACME_ID, f"journey-{tag}", **body)
    assert order["payment_kind"] == "card"
    assert order["lines"][-1]["end_date"] == coterm
    assert checkout(client, demo.ACME_ID, f"journey-{tag}", **body) == order
    number = order["number"]

    # Billing and licensing report back; the reseller gets the confirmation with the link.
    def settled():
        current = client.get(f"/orders/{number}").json()
        return current if current["invoice_number"] and len(current["license_ids"]) == 2 else None

    order = wait_for(settled, timeout=90, what=f"invoice and licenses of {number}")
    assert order["payment_status"] == "paid"
    confirmation = wait_for(
        lambda: mails_about(system, demo.DEMO_RESELLER_USER, number), what="confirmation"
    )
    assert f"/portal/orders/{number}" in text_of(confirmation[0])
    # The cart was closed by cart-quote when it saw the order.
    wait_for(
        lambda: (
            not [
                i
                for i in client.get(f"/customers/{demo.ACME_ID}/cart").json()["items"]
                if i.get("id") == item["id"]
            ]
        ),
        what="the ordered cart closed",
    )

    # Find the order by each key.
    assert found(client, number, number=number)
    assert found(client, number, po_number=po)
    assert found(client, number, customer_name="acme")
    assert found(client, number, customer_email=end_user(tag)["email"].upper())
    assert found(client, number, **{"from": today.isoformat(), "to": today.isoformat()})
    assert not found(client, number, po_number=f"PO-none-{tag}")
    other = login(system, demo.OTHER_RESELLER_USER)
    assert other.get(f"/orders/{number}").status_code == 404

    # Renewals search by the order number offers to renew exactly its licenses.
    before = licenses_of(client, demo.ACME_ID, order["license_ids"])
    assert {lic["valid_until"] for lic in before.values()} == {coterm}
    resp = client.get(f"/customers/{demo.ACME_ID}/renewals", params={"order_number": number})
    assert resp.status_code == 200, resp.text
    [renewable] = resp.json()["items"]
    assert sorted(renewable["license_ids"]) == sorted(order["license_ids"])
    assert "renew" in renewable["allowed_actions"]

    add_to_cart(
        client,
        demo.ACME_ID,
        {"kind": "renewal", "license_ids": renewable["license_ids"], "term_years": 1},
    )
    renewal = checkout(
        client,
        demo.ACME_ID,
        f"journey-renewal-{tag}",
        payment_method_id=demo.DEMO_CARD_METHOD_ID,
        end_user=end_user(tag),
    )
    [line] = [ln for ln in renewal["lines"] if ln["kind"] == "renewal"]
    assert sorted(line["license_ids"]) == sorted(order["license_ids"])

    # The same license IDs, a year longer.
    old_end = dt.date.fromisoformat(coterm)
    year_later = old_end.replace(year=old_end.year + 1).isoformat()

    def extended():
        lics = licenses_of(client, demo.ACME_ID, order["license_ids"])
        return lics if {lic["valid_until"] for lic in lics.values()} == {year_later} else None

    after = wait_for(extended, timeout=90, what="renewed licenses")
    assert sorted(after) == sorted(order["license_ids"])


def test_cancelling_within_the_window_credits_the_order_and_removes_its_licenses(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    empty_cart(client, demo.ACME_ID)
    tag = uuid.uuid4().hex[:8]
    add_to_cart(
        client, demo.ACME_ID, {"kind": "new", "product": "ALL", "quantity": 1, "term_years": 1}
    )
    order = checkout(
        client,
        demo.ACME_ID,
        f"cancel-{tag}",
        payment_method_id=demo.DEMO_CARD_METHOD_ID,
        end_user=end_user(tag),
    )
    number = order["number"]

    def settled():
        current = client.get(f"/orders/{number}").json()
        return current if current["license_ids"] and current["payment_status"] == "paid" else None

    order = wait_for(settled, timeout=90, what=f"{number} paid and licensed")
    assert licenses_of(client, demo.ACME_ID, order["license_ids"])

    resp = client.post(f"/orders/{number}/cancel", json={"reason": "ordered by mistake"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "cancelled"
    assert client.post(f"/orders/{number}/cancel").status_code == 409
    assert client.post(f"/orders/{number}/resend-licenses").status_code == 409

    def credited():
        current = client.get(f"/orders/{number}").json()
        return current if current["credit_note_number"] else None

    order = wait_for(credited, timeout=90, what=f"the credit note of {number}")
    assert order["payment_status"] == "refunded"
    wait_for(
        lambda: not licenses_of(client, demo.ACME_ID, order["license_ids"]),
        timeout=90,
        what="the cancelled order's licenses removed",
    )


def test_a_customer_admin_buys_into_a_new_team_and_renews_without_seeing_resellers_orders(
    system,
):
    admin = login(system, demo.ACME_ADMIN)
    empty_cart(admin, demo.ACME_ID)
    tag = uuid.uuid4().hex[:8]
    team = f"Team {tag}"

    # Its own card, tokenised by the sandbox vault.
    resp = admin.post(
        "/vault/cards",
        json={"number": demo.SUCCESS_CARD, "expiry": "12/30", "cvc": "123", "holder": "Acme"},
    )
    assert resp.status_code in (200, 201), resp.text
    resp = admin.post(
        "/payment-methods", json={"kind": "card", "vault_token": resp.json()["vault_token"]}
    )
    assert resp.status_code in (200, 201), resp.text
    method_id = resp.json()["id"]

    add_to_cart(
        admin,
        demo.ACME_ID,
        {"kind": "new", "product": "ALL", "quantity": 1, "term_years": 1},
    )
    cart = admin.get(f"/customers/{demo.ACME_ID}/cart").json()
    item = cart["items"][-1]
    resp = admin.patch(
        f"/customers/{demo.ACME_ID}/cart/items/{item['id']}", json={"team_name": team}
    )
    assert resp.status_code == 200, resp.text
    order = checkout(
        admin, demo.ACME_ID, f"admin-{tag}", payment_method_id=method_id, end_user=end_user(tag)
    )
    assert order["buyer"]["kind"] == "customer"
    assert order["lines"][-1]["team_name"] == team

    def settled():
        current = admin.get(f"/orders/{order['number']}").json()
        return current if current["license_ids"] and current["invoice_number"] else None

    order = wait_for(settled, timeout=90, what="the admin's licenses")
    teams = admin.get(f"/customers/{demo.ACME_ID}/teams").json()
    teams = teams["items"] if isinstance(teams, dict) else teams
    assert team in [t["name"] for t in teams]

    # Renew it from the renewals search, as the admin.
    resp = admin.get(
        f"/customers/{demo.ACME_ID}/renewals", params={"order_number": order["number"]}
    )
    assert resp.status_code == 200, resp.text
    [renewable] = resp.json()["items"]
    add_to_cart(
        admin,
        demo.ACME_ID,
        {"kind": "renewal", "license_ids": renewable["license_ids"], "term_years": 1},
    )
    renewal = checkout(
        admin,
        demo.ACME_ID,
        f"admin-renew-{tag}",
        payment_method_id=method_id,
        end_user=end_user(tag),
    )
    assert [ln["license_ids"] for ln in renewal["lines"]] == [order["license_ids"]]

    # It sees its own orders only: none a reseller placed.
    mine = admin.get("/orders", params={"limit": 100}).json()["items"]
    assert {o["buyer"]["kind"] for o in mine} == {"customer"}
    assert {renewal["number"], order["number"]} <= {o["number"] for o in mine}
    reseller = login(system, demo.DEMO_RESELLER_USER)
    theirs = reseller.get("/orders", params={"limit": 1}).json()["items"]
    if theirs:
        assert admin.get(f"/orders/{theirs[0]['number']}").status_code == 404
    assert reseller.get(f"/orders/{order['number']}").status_code == 404
