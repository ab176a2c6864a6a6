"""Catalog, cart and quotes through the gateway, on the real PostgreSQL and RabbitMQ.

The reseller sees its own prices, co-terms a line, gets a quote (emailed with its PDF), finds it by
each key, prints it, orders it with a PO; another quote is cancelled; the seeded direct quote
becomes the reseller's by entering the customer with its number and licensee email.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid

from pypdf import PdfReader

from portal_contracts import demo
from portal_system.client import wait_for
from portal_system.testing import login, mails_about

ADDRESS = {
    "name": "Demo Reseller Inc.",
    "line1": "1 Main St",
    "city": "Springfield",
    "country": "US",
}
CART = f"/customers/{demo.ACME_ID}/cart"


def get_quote(client, tag: str, **line) -> dict:
    resp = client.post(f"{CART}/items", json={"kind": "new", "term_years": 1, **line})
    assert resp.status_code == 201, resp.text
    resp = client.post(
        f"{CART}/quote",
        json={
            "billing_address": ADDRESS,
            "end_user": {
                "first_name": "Quinn",
                "last_name": f"Quote-{tag}",
                "email": f"quinn.{tag}@acme.example",
            },
            "po_number": f"PO-Q-{tag}",
        },
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_reseller_prices_quote_pdf_search_order_and_cancel(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    products = client.get("/products").json()["items"]
    ii = next(p for p in products if p["code"] == "II")
    yearly = next(p["amount"] for p in ii["prices"] if p["term_years"] == 1 and p["kind"] == "new")
    assert {p["code"] for p in products} >= set(demo.PRODUCTS)

    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    tag = uuid.uuid4().hex[:8]
    today = dt.date.today()
    resp = client.post(f"{CART}/items", json={"kind": "new", "product": "II", "quantity": 1})
    item = resp.json()["items"][-1]
    assert item["unit_price"] == yearly  # the cart charges what the catalog shows this reseller
    co_term = (today + dt.timedelta(days=84)).isoformat()
    resp = client.patch(f"{CART}/items/{item['id']}", json={"end_date": co_term})
    assert resp.status_code == 200, resp.text
    client.delete(f"{CART}/items/{item['id']}")

    quote = get_quote(client, tag, product="PC", quantity=3)
    number = quote["number"]
    assert quote["status"] == "open"
    assert quote["valid_until"] == (today + dt.timedelta(days=30)).isoformat()

    # The reseller is emailed the quote with its PDF.
    mails = wait_for(
        lambda: mails_about(system, demo.DEMO_RESELLER_USER, number), what="the quote email"
    )
    attachments = [
        p for p in mails[0].iter_attachments() if p.get_content_type() == "application/pdf"
    ]
    assert attachments, "the quote email carries the PDF"

    pdf = client.get(f"/quotes/{number}/pdf")
    assert pdf.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert number in text and "Acme Corp" in text and f"Quote-{tag}" in text

    for params in (
        {"number": number},
        {"customer_name": "acme"},
        {"customer_email": f"QUINN.{tag}@acme.example"},
        {"from": today.isoformat(), "to": today.isoformat()},
        {"status": "open"},
    ):
        items = client.get("/quotes", params={"limit": 100, **params}).json()["items"]
        assert number in [q["number"] for q in items], params
    other = login(system, demo.OTHER_RESELLER_USER)
    assert other.get(f"/quotes/{number}").status_code == 404

    # Ordering it with a PO marks it ordered once orders has placed the order.
    resp = client.post(f"/quotes/{number}/order", json={}, headers={"Idempotency-Key": f"q-{tag}"})
    assert resp.status_code == 201, resp.text
    wait_for(
        lambda: client.get(f"/quotes/{number}").json()["status"] == "ordered",
        what="the ordered quote",
    )

    second = get_quote(client, f"{tag}b", product="WS", quantity=1)["number"]
    assert client.post(f"/quotes/{second}/cancel").json()["status"] == "cancelled"
    assert client.post(f"/quotes/{second}/cancel").status_code == 409


def test_the_direct_quote_becomes_the_resellers_by_customer_entry(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    wrong = client.post(
        "/customer-access",
        json={"by": "quote", "value": "Q-2026-000001", "email": "nobody@acme.example"},
    )
    assert wrong.status_code == 404
    resp = client.post(
        "/customer-access",
        json={"by": "quote", "value": "Q-2026-000001", "email": "jane.doe@acme.example"},
    )
    assert resp.status_code in (200, 201), resp.text
    assert resp.json()["customer_id"] == demo.ACME_ID
    quote = client.get("/quotes/Q-2026-000001").json()
    assert (quote["status"], quote["customer"]["id"]) == ("open", demo.ACME_ID)
