"""Invoices end to end on PostgreSQL and RabbitMQ: the tax of three kinds of buyer is priced,
charged to the card, invoiced and printed, and all of them agree to the cent."""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal

from pypdf import PdfReader

from portal_contracts import demo
from portal_system.client import wait_for
from portal_system.testing import login


def store_card(client) -> str:
    vaulted = client.post(
        "/vault/cards",
        json={"number": demo.SUCCESS_CARD, "expiry": "12/30", "cvc": "123", "holder": "Bo"},
    )
    assert vaulted.status_code == 201, vaulted.text
    body = {"kind": "card", "vault_token": vaulted.json()["vault_token"]}
    method = client.post("/payment-methods", json=body)
    assert method.status_code == 201, method.text
    return method.json()["id"]


def invoiced(client, number: str) -> dict:
    order = wait_for(
        lambda: (o := client.get(f"/orders/{number}").json())["invoice_number"] and o,
        timeout=90,
        what=f"invoice of {number}",
    )
    return client.get(f"/invoices/{order['invoice_number']}").json()


def order_body(card: str, kind: str, address: dict) -> dict:
    return {
        "customer_id": demo.ACME_ID,
        "lines": [{"kind": "new", "product": "WS", "quantity": 2, "term_years": 1}],
        "end_user": {"first_name": "Ida", "last_name": kind, "email": f"ida.{kind}@acme.example"},
        "payment_method_id": card,
        "billing_address": address,
        "send_activation_email": False,
    }


BUYERS = {
    # (billing address, rate, the words the invoice must print)
    "domestic": ({"country": "NL", "vat_id": None}, Decimal("21"), "VAT 21 % (NL)"),
    "eu-business": ({"country": "DE", "vat_id": "DE136695976"}, Decimal("0"), "Reverse charge"),
    "outside-eu": ({"country": "US", "vat_id": None}, Decimal("0"), "Outside the scope of EU VAT"),
}


def test_each_kind_of_buyer_is_taxed_charged_and_invoiced_alike(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    card = store_card(client)
    for kind, (where, rate, words) in BUYERS.items():
        address = {"name": f"Buyer {kind}", "line1": "1 Street", "city": "Town", **where}
        placed = client.place_order(order_body(card, kind, address))
        assert placed.status_code == 201, placed.text
        order = placed.json()
        net = sum(Decimal(line["amount"]) for line in order["lines"])
        tax = (net * rate / 100).quantize(Decimal("0.01"))
        assert (Decimal(order["subtotal"]), Decimal(order["total"])) == (net, net + tax), kind
        assert words in order["tax"][0]["note"], kind

        invoice = invoiced(client, order["number"])
        # What the card was charged, what the invoice says and what the order says agree.
        assert invoice["status"] == "paid", kind
        assert (invoice["amount"], invoice["subtotal"]) == (order["total"], order["subtotal"])
        assert invoice["tax"] == order["tax"]
        pdf = client.get(f"/invoices/{invoice['number']}/pdf").content
        assert hashlib.sha256(pdf).hexdigest() == invoice["pdf_sha256"]
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        for expected in (f"Buyer {kind}", "Portal Software B.V.", words, order["total"]):
            assert expected in text, (kind, expected)
