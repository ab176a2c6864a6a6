"""Quotes through the Flask app: Get Quote, PDF, search, cancel, expiry, direct quotes."""

from __future__ import annotations

import dataclasses
import io

import pytest
from pypdf import PdfReader

import portal_contracts
from cart_quote.seed import seed
from portal_contracts import demo
from portal_runtime.documents import unicode_font
from portal_runtime.identity import service_identity
from portal_runtime.testing import deliver, event, needs, recorded
from portal_runtime.testkit import GATEWAY

CART = f"/customers/{demo.ACME_ID}/cart"
QUOTE_BODY = {
    "billing_address": {
        "name": "Demo Reseller Inc.",
        "line1": "1 Partner Way",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
    },
    "end_user": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example"},
    "po_number": "PO-77",
}


def issue(client, customer_id=demo.ACME_ID, **lines):
    client.post(
        f"/customers/{customer_id}/cart/items",
        json={"kind": "new", "product": "II", "quantity": 2, "term_years": 1, **lines},
    )
    return client.post(f"/customers/{customer_id}/cart/quote", json=QUOTE_BODY)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_get_quote_freezes_the_cart_into_a_numbered_quote(cart_quote, demo_client):
    item = demo_client.post(
        f"{CART}/items", json={"kind": "new", "product": "II", "quantity": 2}
    ).get_json()["items"][0]
    demo_client.patch(f"{CART}/items/{item['id']}", json={"end_date": "2027-02-14"})
    resp = demo_client.post(f"{CART}/quote", json=QUOTE_BODY)
    assert resp.status_code == 201, resp.get_json()
    quote = resp.get_json()
    assert quote["number"] == "Q-2026-000001"
    assert resp.headers["Location"] == f"/api/v1/quotes/{quote['number']}"
    assert quote["status"] == "open"
    assert quote["valid_until"] == "2026-12-22"  # 30 days
    assert quote["customer"] == {
        "id": demo.ACME_ID,
        "name": "Acme Corp",
        "email": "it@acme.example",
    }
    (line,) = quote["lines"]
    assert (line["unit_price"], line["amount"], line["fallback_eligible"]) == (
        "20.71",
        "41.42",
        False,
    )
    assert (quote["total"], quote["currency"], quote["po_number"]) == ("41.42", "USD", "PO-77")
    # The cart's lines now live in the quote.
    assert demo_client.get(CART).get_json()["items"] == []

    (issued,) = recorded(cart_quote, "quotes.quote.issued")
    assert issued["quote_number"] == quote["number"]
    assert issued["buyer"]["reseller_id"] == demo.DEMO_RESELLER_ID
    assert issued["end_user"]["email"] == "ada@acme.example"
    assert issued["lines"][0]["end_date"] == "2027-02-14"

    # Prices changing afterwards do not change the quote.
    deliver(
        cart_quote,
        event(
            "catalog.partner_discount.changed",
            {"reseller_id": "RS-1001", "percent": "50", "effective_at": "2026-11-20T00:00:00Z"},
        ),
    )
    assert demo_client.get(f"/quotes/{quote['number']}").get_json()["total"] == "41.42"


def test_an_empty_cart_gives_no_quote(demo_client):
    resp = demo_client.post(f"{CART}/quote", json=QUOTE_BODY)
    assert resp.status_code == 409
    resp = demo_client.post(f"{CART}/quote", json={**QUOTE_BODY, "end_user": {"first_name": "A"}})
    assert resp.status_code == 422 and "end_user" in resp.get_json()["errors"]


def test_quote_pdf_carries_everything_a_buyer_needs(demo_client):
    number = issue(demo_client).get_json()["number"]
    resp = demo_client.get(f"/quotes/{number}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = pdf_text(resp.data)
    for expected in [
        number,
        "Valid until",
        "2026-12-22",
        "Portal Software B.V.",  # the seller
        "NL123456782B01",
        "Outside the scope of EU VAT",
        "Demo Reseller",
        "Acme Corp",
        "C-100001",
        "Ada Lovelace",
        "ada@acme.example",
        "1 Partner Way",
        "IntelliJ IDEA Ultimate",
        "2026-11-22",
        "2027-11-22",
        "90.00",
        "180.00 USD",
        "PO-77",
    ]:
        assert expected in text, expected
    by_accept = demo_client.get(f"/quotes/{number}", headers={"Accept": "application/pdf"})
    assert by_accept.mimetype == "application/pdf"
    assert demo_client.get(f"/quotes/{number}").mimetype == "application/json"


@needs("a Unicode TrueType font", unicode_font(), "apt-get install fonts-dejavu-core")
def test_names_outside_latin_1_print_as_written(demo_client):
    demo_client.post(f"{CART}/items", json={"kind": "new", "product": "II", "quantity": 1})
    body = {
        **QUOTE_BODY,
        "billing_address": {**QUOTE_BODY["billing_address"], "city": "Łódź", "name": "Żółw sp."},
        "end_user": {"first_name": "Łukasz", "last_name": "Ćwik", "email": "l@acme.example"},
    }
    number = demo_client.post(f"/customers/{demo.ACME_ID}/cart/quote", json=body).get_json()[
        "number"
    ]
    text = pdf_text(demo_client.get(f"/quotes/{number}/pdf").data)
    for name in ("Łódź", "Żółw sp.", "Łukasz Ćwik"):
        assert name in text, name


def test_notifications_fetch_the_pdf_with_a_service_identity(cart_quote, client_for, demo_client):
    number = issue(demo_client).get_json()["number"]
    notifications = client_for(service_identity("notifications"))
    resp = notifications.get(f"/internal/quotes/{number}/pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert demo_client.get(f"/internal/quotes/{number}/pdf").status_code == 404


def test_search_by_each_key_only_the_resellers_own(cart_quote, clock, client_for, people):
    demo_client = client_for(people["demo"])
    first = issue(demo_client).get_json()["number"]
    clock.advance(days=3)
    globex = client_for(dataclasses.replace(people["demo"], customer_scope=demo.GLOBEX_ID))
    second = issue(globex, customer_id=demo.GLOBEX_ID).get_json()["number"]
    other = client_for(people["other"])
    issue(other, customer_id=demo.GLOBEX_ID)

    def numbers(query: str) -> list[str]:
        resp = demo_client.get(f"/quotes?{query}")
        assert resp.status_code == 200, resp.get_json()
        return [q["number"] for q in resp.get_json()["items"]]

    assert numbers("") == [second, first]  # newest first, the other reseller's absent
    assert numbers(f"number={first}") == [first]
    assert numbers(f"number={first.lower()}") == [first]  # a whole number, any case
    assert numbers(f"number={first[-4:]}") == [first]  # part of one
    assert numbers(f"number={first[:-1]}") == [second, first]  # the start of both
    assert numbers("customer_name=acme") == [first]
    assert numbers("customer_name=GLOB") == [second]
    assert numbers("customer_email=LICENSING@globex.example") == [second]
    assert numbers("customer_email=ada@acme.example") == [second, first]  # the end user's
    assert numbers("from=2026-11-23") == [second]
    assert numbers("to=2026-11-22") == [first]
    assert numbers("from=2026-11-01&to=2026-11-30&status=open") == [second, first]
    assert numbers("status=cancelled") == []
    assert numbers("limit=1") == [second]
    assert demo_client.get("/quotes?status=lost").status_code == 422


def test_cancel_an_open_quote(cart_quote, demo_client):
    number = issue(demo_client).get_json()["number"]
    resp = demo_client.post(f"/quotes/{number}/cancel")
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert recorded(cart_quote, "quotes.quote.cancelled") == [
        {"quote_number": number, "reseller_id": "RS-1001", "customer_id": demo.ACME_ID}
    ]
    again = demo_client.post(f"/quotes/{number}/cancel")
    assert again.status_code == 409
    assert [
        q["number"] for q in demo_client.get("/quotes?status=cancelled").get_json()["items"]
    ] == [number]


def test_quotes_past_validity_show_expired(clock, demo_client):
    number = issue(demo_client).get_json()["number"]
    clock.advance(days=30)
    assert demo_client.get(f"/quotes/{number}").get_json()["status"] == "open"
    clock.advance(days=1)
    assert demo_client.get(f"/quotes/{number}").get_json()["status"] == "expired"
    assert [q["number"] for q in demo_client.get("/quotes?status=expired").get_json()["items"]] == [
        number
    ]
    assert demo_client.get("/quotes?status=open").get_json()["items"] == []
    assert demo_client.post(f"/quotes/{number}/cancel").status_code == 409


def test_another_reseller_gets_404_on_every_quote_route(demo_client, other_client):
    number = issue(demo_client).get_json()["number"]
    for resp in [
        other_client.get(f"/quotes/{number}"),
        other_client.get(f"/quotes/{number}/pdf"),
        other_client.post(f"/quotes/{number}/cancel"),
    ]:
        assert resp.status_code == 404
    assert other_client.get(f"/quotes?number={number}").get_json()["items"] == []
    assert demo_client.get(f"/quotes/{number}").get_json()["status"] == "open"


def test_a_billing_user_reads_but_does_not_cancel(client_for, people, demo_client):
    number = issue(demo_client).get_json()["number"]
    billing = client_for(dataclasses.replace(people["demo"], roles=("billing",)))
    assert billing.get(f"/quotes/{number}").status_code == 200
    assert billing.post(f"/quotes/{number}/cancel").status_code == 403


def test_order_placed_from_a_quote_marks_it_ordered(cart_quote, demo_client):
    number = issue(demo_client).get_json()["number"]
    payload = {
        **portal_contracts.example("orders.order.placed"),
        "source": {"kind": "quote", "reference": number},
    }
    deliver(cart_quote, event("orders.order.placed", payload))
    quote = demo_client.get(f"/quotes/{number}").get_json()
    assert (quote["status"], quote["order_number"]) == ("ordered", "O-2026-000042")
    deliver(cart_quote, event("orders.order.placed", {**payload, "order_number": "O-2026-000099"}))
    assert demo_client.get(f"/quotes/{number}").get_json()["order_number"] == "O-2026-000042"
    assert demo_client.post(f"/quotes/{number}/cancel").status_code == 409


# -- direct quotes -------------------------------------------------------------------------------


def test_a_quote_just_ordered_cannot_be_cancelled_before_the_event_arrives(orders, demo_client):
    number = issue(demo_client).get_json()["number"]
    # Orders has placed the order; its event has not reached cart-quote yet.
    orders.orders["O-2026-000050"] = {
        "number": "O-2026-000050",
        "reseller_id": "RS-1001",
        "source": {"kind": "quote", "reference": number},
    }
    resp = demo_client.post(f"/quotes/{number}/cancel")
    assert resp.status_code == 409
    assert "O-2026-000050" in resp.get_json()["detail"]
    assert demo_client.get(f"/quotes/{number}").get_json()["status"] == "open"


def test_an_order_for_a_quote_cancelled_meanwhile_makes_it_ordered(cart_quote, demo_client):
    number = issue(demo_client).get_json()["number"]
    assert demo_client.post(f"/quotes/{number}/cancel").status_code == 200
    payload = {
        **portal_contracts.example("orders.order.placed"),
        "source": {"kind": "quote", "reference": number},
    }
    deliver(cart_quote, event("orders.order.placed", payload))
    quote = demo_client.get(f"/quotes/{number}").get_json()
    assert (quote["status"], quote["order_number"]) == ("ordered", "O-2026-000042")
    found = demo_client.get("/quotes?status=ordered").get_json()["items"]
    assert [q["number"] for q in found] == [number]


@pytest.fixture
def seeded(cart_quote):
    seed(cart_quote)
    seed(cart_quote)  # idempotent
    return cart_quote


def claim(client, **body):
    return client.post(
        "/internal/quotes/claim",
        json={
            "quote_number": "Q-2026-000001",
            "email": "jane.doe@acme.example",
            "reseller_id": demo.DEMO_RESELLER_ID,
            **body,
        },
    )


def test_a_direct_quote_becomes_the_resellers_by_claim(seeded, client_for, demo_client):
    gateway = client_for(GATEWAY)
    assert demo_client.get("/quotes/Q-2026-000001").status_code == 404  # not the reseller's yet
    failures = [
        claim(gateway, email="someone@acme.example"),
        claim(gateway, quote_number="Q-2026-999999"),
    ]
    assert [r.status_code for r in failures] == [404, 404]
    assert failures[0].get_json() == failures[1].get_json()

    resp = claim(gateway, email="Jane.Doe@ACME.example")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {
        "customer_id": demo.ACME_ID,
        "name": "Acme Corp",
        "quote_number": "Q-2026-000001",
    }
    assert recorded(seeded, "quotes.quote.converted") == [
        {"quote_number": "Q-2026-000001", "reseller_id": "RS-1001", "customer_id": demo.ACME_ID}
    ]
    quote = demo_client.get("/quotes/Q-2026-000001").get_json()
    assert (quote["status"], quote["kind"], quote["total"]) == ("open", "reseller", "2995.00")
    text = pdf_text(demo_client.get("/quotes/Q-2026-000001/pdf").data)
    assert "Demo Reseller (RS-1001)" in text and "Jane Doe" in text
    # Once claimed it is no longer a direct quote: nobody claims it again.
    assert claim(gateway, reseller_id=demo.OTHER_RESELLER_ID).status_code == 404


def test_an_expired_direct_quote_cannot_be_claimed(seeded, clock, client_for):
    clock.advance(days=366)
    assert claim(client_for(GATEWAY)).status_code == 404


def test_a_reseller_user_may_claim_only_for_itself(seeded, demo_client):
    assert claim(demo_client, reseller_id=demo.OTHER_RESELLER_ID).status_code == 404
    assert claim(demo_client).status_code == 200
