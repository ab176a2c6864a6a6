"""Billing end to end, through the gateway only: cards, PayPal, PO invoices, credit notes."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from urllib.parse import urlsplit

import requests
from pypdf import PdfReader

from portal_contracts import demo
from portal_system.client import wait_for
from portal_system.testing import login


def order_body(payment_method_id: str | None, po_number: str | None = None) -> dict:
    tag = uuid.uuid4().hex[:8]
    body = {
        "customer_id": demo.ACME_ID,
        "lines": [{"kind": "new", "product": "WS", "quantity": 1, "term_years": 1}],
        "end_user": {
            "first_name": "Bo",
            "last_name": f"Billing-{tag}",
            "email": f"bo.{tag}@acme.example",
        },
        "send_activation_email": False,
    }
    if payment_method_id:
        body["payment_method_id"] = payment_method_id
    if po_number:
        body["po_number"] = po_number
    return body


def store_card(client, number: str) -> str:
    vaulted = client.post(
        "/vault/cards", json={"number": number, "expiry": "12/30", "cvc": "123", "holder": "Bo"}
    )
    assert vaulted.status_code == 201, vaulted.text
    method = client.post(
        "/payment-methods", json={"kind": "card", "vault_token": vaulted.json()["vault_token"]}
    )
    assert method.status_code == 201, method.text
    return method.json()["id"]


def invoiced(client, number: str) -> dict:
    order = wait_for(
        lambda: (o := client.get(f"/orders/{number}").json())["invoice_number"] and o,
        timeout=90,
        what=f"invoice of {number}",
    )
    return client.get(f"/invoices/{order['invoice_number']}").json()


def test_declined_card_order_is_unpaid_until_paid_with_another_card(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    declined = store_card(client, demo.DECLINED_CARD)
    placed = client.place_order(order_body(declined))
    assert placed.status_code == 201, placed.text
    number = placed.json()["number"]

    invoice = invoiced(client, number)
    assert invoice["status"] == "not_paid" and invoice["payment_failure_reason"] == "card_declined"
    grace = dt.date.fromisoformat(invoice["grace_until"])
    assert grace == dt.date.fromisoformat(invoice["issued_on"]) + dt.timedelta(days=7)
    wait_for(
        lambda: client.get(f"/orders/{number}").json()["payment_status"] == "failed",
        what="order showing the failed payment",
    )
    assert client.get("/invoices/summary").json()["unpaid"] >= 1

    good = store_card(client, demo.SUCCESS_CARD)
    paid = client.post(f"/invoices/{invoice['number']}/pay", json={"payment_method_id": good})
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    wait_for(
        lambda: client.get(f"/orders/{number}").json()["payment_status"] == "paid",
        what="order showing the payment",
    )
    again = client.post(f"/invoices/{invoice['number']}/pay", json={"payment_method_id": good})
    assert again.status_code == 409


def test_po_order_invoice_is_due_in_30_days_and_cancelling_applies_a_credit_note(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    po = f"PO-{uuid.uuid4().hex[:6]}"
    placed = client.place_order(order_body(None, po_number=po))
    assert placed.status_code == 201, placed.text
    number = placed.json()["number"]
    invoice = invoiced(client, number)
    assert (invoice["status"], invoice["payment_type"]) == ("not_paid", "postpaid")
    assert invoice["po_number"] == po
    due = dt.date.fromisoformat(invoice["due_date"])
    assert due == dt.date.fromisoformat(invoice["issued_on"]) + dt.timedelta(days=30)
    found = client.get("/invoices", params={"customer_name": "acme", "status": "not_paid"}).json()
    assert invoice["number"] in [i["number"] for i in found["items"]]

    pdf = client.get(f"/invoices/{invoice['number']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"].startswith("application/pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert invoice["number"] in text and po in text and "Net 30" in text

    assert client.post(f"/orders/{number}/cancel").status_code in (200, 202)
    settled = wait_for(
        lambda: (i := client.get(f"/invoices/{invoice['number']}").json())["credit_note"] and i,
        timeout=60,
        what="credit note",
    )
    assert (settled["status"], settled["payment_type"]) == ("applied", "credit_note")
    assert settled["credit_note"]["number"].startswith("CN-PS-")  # the seller's series
    assert settled["amount"] == invoice["amount"]
    note = client.get(f"/invoices/{invoice['number']}/credit-note/pdf")
    assert note.status_code == 200 and note.headers["Content-Type"].startswith("application/pdf")
    note_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(note.content)).pages)
    assert settled["credit_note"]["number"] in note_text and invoice["number"] in note_text


def test_paypal_is_set_up_through_the_sandbox_approval_page(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    back = f"{system.gateway_url.removesuffix('/api/v1')}/billing/paypal-done"
    elsewhere = client.post(
        "/payment-methods", json={"kind": "paypal", "return_url": "https://evil.example/cb"}
    )
    assert elsewhere.status_code == 422  # never an open redirect
    created = client.post("/payment-methods", json={"kind": "paypal", "return_url": back})
    assert created.status_code == 201, created.text
    pending = created.json()
    assert pending["status"] == "pending"
    url = pending["redirect_url"]
    assert urlsplit(url).path == "/api/v1/sandbox/paypal/approve"
    page = requests.get(url, timeout=10)  # the payer's browser: no portal token
    assert page.status_code == 200 and "Approve" in page.text
    approved = requests.post(url, timeout=10, allow_redirects=False)
    assert approved.status_code == 302
    assert approved.headers["Location"] == back
    methods = client.get("/payment-methods").json()["items"]
    [method] = [m for m in methods if m["id"] == pending["id"]]
    assert method["status"] == "active" and method["email"]
    assert client.delete(f"/payment-methods/{method['id']}").status_code == 204
