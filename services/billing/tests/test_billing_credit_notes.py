"""Cancelled orders: a credit note, numbered gapless; paid invoices refunded, unpaid applied."""

from __future__ import annotations

import copy
import io

from pypdf import PdfReader

from portal_contracts import demo, example
from portal_runtime.testing import deliver, event, recorded


def cancelled(number: str, buyer: dict | None = None) -> dict:
    payload = copy.deepcopy(example("orders.order.cancelled"))
    payload["order_number"] = number
    if buyer:
        payload["buyer"], payload["reseller_id"] = buyer, buyer.get("reseller_id")
    return payload


def place(service, kit, number, **kw):
    deliver(service, event("orders.order.placed", kit.order_placed(number, **kw)))


def test_cancelling_a_paid_order_refunds_it_with_a_credit_note(service, kit, as_reseller):
    card = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    place(service, kit, "O-2026-000001", method_id=card)
    deliver(service, event("orders.order.cancelled", cancelled("O-2026-000001")))

    [note] = recorded(service, "billing.credit_note.issued")
    assert note["credit_note_number"] == "CN-PS-2026-000001"
    assert note["invoice_number"] == "INV-PS-2026-000001"
    assert note["refunded"] is True and note["amount"] == "448.20"
    body = as_reseller.get("/invoices/INV-PS-2026-000001").get_json()
    assert body["status"] == "paid"  # the invoice as issued stands; the credit note refunds it
    assert body["credit_note"]["number"] == "CN-PS-2026-000001"
    assert body["credit_note"]["refunded"] is True
    assert body["amount"] == "448.20" and body["lines"][0]["quantity"] == 2


def test_cancelling_an_unpaid_order_applies_the_credit_note(service, kit, as_reseller):
    place(service, kit, "O-2026-000001", kind="po", po_number="PO-1")
    deliver(service, event("orders.order.cancelled", cancelled("O-2026-000001")))

    [note] = recorded(service, "billing.credit_note.issued")
    assert note["refunded"] is False
    body = as_reseller.get("/invoices/INV-PS-2026-000001").get_json()
    assert (body["status"], body["payment_type"]) == ("applied", "credit_note")
    assert as_reseller.get("/invoices/summary").get_json() == {"unpaid": 0, "overdue": 0}
    assert (body["amount_paid"], body["amount_due"]) == ("0.00", "0.00")
    assert body["credit_note"]["pdf_url"] == "/api/v1/invoices/INV-PS-2026-000001/credit-note/pdf"
    pdf = as_reseller.get("/invoices/INV-PS-2026-000001/credit-note/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert body["credit_note"]["pdf_sha256"] == pdf.headers["X-Content-SHA256"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "CN-PS-2026-000001" in text and "INV-PS-2026-000001" in text
    assert "-448.20 USD" in text and "Applied to invoice INV-PS-2026-000001" in text
    paid = as_reseller.post(
        "/invoices/INV-PS-2026-000001/pay",
        json={"payment_method_id": kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)},
    )
    assert paid.status_code == 409


def test_a_replayed_cancellation_issues_one_credit_note(service, kit):
    place(service, kit, "O-2026-000001", kind="po", po_number="PO-1")
    place(service, kit, "O-2026-000002", kind="po", po_number="PO-2")
    payload = cancelled("O-2026-000001")
    deliver(service, event("orders.order.cancelled", payload))
    deliver(service, event("orders.order.cancelled", payload))
    deliver(service, event("orders.order.cancelled", cancelled("O-2026-000002")))
    numbers = [n["credit_note_number"] for n in recorded(service, "billing.credit_note.issued")]
    assert numbers == ["CN-PS-2026-000001", "CN-PS-2026-000002"]


def test_a_cancellation_that_overtakes_a_paid_invoice_refunds_it_once_the_invoice_is_issued(
    service, kit, as_reseller
):
    card = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    # Handled, not failed: nothing for the consumer to retry or dead-letter.
    assert deliver(service, event("orders.order.cancelled", cancelled("O-2026-000001")))
    assert recorded(service, "billing.credit_note.issued") == []
    place(service, kit, "O-2026-000001", method_id=card)

    [note] = recorded(service, "billing.credit_note.issued")
    assert (note["invoice_number"], note["refunded"]) == ("INV-PS-2026-000001", True)
    # The money was taken at issuance (the invoice says paid), then given back by the note.
    [issued] = recorded(service, "billing.invoice.issued")
    assert (issued["order_number"], issued["status"]) == ("O-2026-000001", "paid")
    body = as_reseller.get("/invoices/INV-PS-2026-000001").get_json()
    assert body["credit_note"]["refunded"] is True
    assert service.payments.charges() == 1
    # The order's event again, or the cancellation again: still one credit note.
    place(service, kit, "O-2026-000001", method_id=card)
    deliver(service, event("orders.order.cancelled", cancelled("O-2026-000001")))
    assert len(recorded(service, "billing.credit_note.issued")) == 1


def test_a_cancellation_that_overtakes_an_unpaid_invoice_applies_it(service, kit, as_reseller):
    deliver(service, event("orders.order.cancelled", cancelled("O-2026-000001")))
    place(service, kit, "O-2026-000001", kind="po", po_number="PO-1")
    [note] = recorded(service, "billing.credit_note.issued")
    assert note["refunded"] is False
    body = as_reseller.get("/invoices/INV-PS-2026-000001").get_json()
    assert (body["status"], body["payment_type"]) == ("applied", "credit_note")
