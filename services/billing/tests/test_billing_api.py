"""The invoices API: search, summary, one invoice, its PDF, paying it, tenancy and roles."""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader

from billing.jobs import mark_overdue
from portal_contracts import demo
from portal_runtime.testing import deliver, event, recorded
from portal_runtime.testkit import ACME_ADMIN, OTHER_RESELLER, Api, reseller


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def place(service, kit, number, **kw):
    deliver(service, event("orders.order.placed", kit.order_placed(number, **kw)))


def test_invoice_reads_as_api_md_says(service, kit, as_reseller):
    method = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    place(service, kit, "O-2026-000001", method_id=method)

    body = as_reseller.get("/invoices/INV-PS-2026-000001").get_json()
    assert body["number"] == "INV-PS-2026-000001"
    assert body["status"] == "paid" and body["payment_type"] == "online"
    assert body["paid_at"].startswith("2026-11-22T10:00:00")
    assert body["amount"] == "448.20" and body["currency"] == "USD"
    assert body["due_date"] == "2026-11-22" and body["overdue"] is False
    assert body["order_number"] == "O-2026-000001" and body["po_number"] is None
    assert body["customer"] == {"id": "C-100001", "name": "Acme Corp", "email": "it@acme.example"}
    assert body["lines"][0]["product"] == "PC"
    assert body["lines"][0]["quantity"] == 2 and body["lines"][0]["kind"] == "new"


def test_paid_invoice_pdf_shows_everything_the_portal_lists(service, kit, as_reseller):
    method = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    lines = kit.order_placed("x")["lines"]
    renewal = dict(
        lines[0],
        line_no=2,
        kind="renewal",
        product="II",
        quantity=3,
        license_ids=["L-1"],
        amount="300.00",
        unit_price="100.00",
    )
    place(
        service,
        kit,
        "O-2026-000001",
        method_id=method,
        po_number="PO-4711",
        lines=[lines[0], renewal],
    )

    resp = as_reseller.get("/invoices/INV-PS-2026-000001/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = pdf_text(resp.data)
    for expected in (
        "INV-PS-2026-000001",
        "Paid on 2026-11-22 by Visa card ending 1111",
        "Amount due",
        "748.20 USD",
        "O-2026-000001",
        "PO-4711",
        "it@acme.example",
        "C-100001",
        "Acme Corp",
        "New subscription",
        "Renewal",
        "Demo Reseller Inc.",  # the billing address entered at checkout
        "1 Main St",
    ):
        assert expected in text, expected
    assert "PC" in text and "II" in text


def test_pdf_is_stored_once_as_issued_and_a_later_payment_leaves_it_alone(
    service, kit, as_reseller
):
    place(service, kit, "O-2026-000001", kind="po", po_number="PO-1")
    first = as_reseller.get("/invoices/INV-PS-2026-000001/pdf")
    text = pdf_text(first.data)
    assert "Net 30: due on 2026-12-22" in text
    assert "INV-PS-2026-000001 / PO-1" in text  # the reference to quote with the transfer
    digest = hashlib.sha256(first.data).hexdigest()
    assert first.headers["X-Content-SHA256"] == digest
    assert as_reseller.get("/invoices/INV-PS-2026-000001").get_json()["pdf_sha256"] == digest

    method = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    paid = as_reseller.post("/invoices/INV-PS-2026-000001/pay", json={"payment_method_id": method})
    assert paid.status_code == 200, paid.get_json()
    assert (paid.get_json()["amount_paid"], paid.get_json()["amount_due"]) == ("448.20", "0.00")
    # The issued document is not edited by the payment: the same bytes, every download.
    assert as_reseller.get("/invoices/INV-PS-2026-000001/pdf").data == first.data
    assert paid.get_json()["pdf_sha256"] == digest
    with service.sessions() as session:
        from sqlalchemy import func, select

        from billing.models import InvoiceDocument

        assert session.scalar(select(func.count(InvoiceDocument.id))) == 1


def test_search_by_each_key(service, kit, as_reseller):
    card = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    globex = {"id": demo.GLOBEX_ID, "name": demo.GLOBEX_NAME, "email": demo.GLOBEX_CONTACT}
    place(service, kit, "O-2026-000001", method_id=card)  # Acme, paid
    place(service, kit, "O-2026-000002", kind="po", po_number="PO-2", customer=globex)
    place(service, kit, "O-2026-000003", kind="po", po_number="PO-3")  # Acme, not paid

    def numbers(query):
        resp = as_reseller.get("/invoices" + query)
        assert resp.status_code == 200, resp.get_json()
        return sorted(i["number"] for i in resp.get_json()["items"])

    assert numbers("?number=inv-ps-2026-000002") == ["INV-PS-2026-000002"]
    assert numbers("?customer_name=acme") == ["INV-PS-2026-000001", "INV-PS-2026-000003"]
    assert numbers("?customer_name=LOBE") == ["INV-PS-2026-000002"]
    assert numbers("?customer_email=LICENSING@globex.example") == ["INV-PS-2026-000002"]
    assert numbers("?status=paid") == ["INV-PS-2026-000001"]
    assert numbers("?status=not_paid") == ["INV-PS-2026-000002", "INV-PS-2026-000003"]
    assert numbers("?overdue=true") == []
    service.clock.advance(days=31)
    mark_overdue(service)
    assert numbers("?overdue=true") == ["INV-PS-2026-000002", "INV-PS-2026-000003"]
    assert numbers("?overdue=false") == ["INV-PS-2026-000001"]
    assert as_reseller.get("/invoices?status=lost").status_code == 422


def test_summary_counts_unpaid_and_overdue_for_the_warning_sign(service, kit, as_reseller):
    card = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    assert as_reseller.get("/invoices/summary").get_json() == {"unpaid": 0, "overdue": 0}
    place(service, kit, "O-2026-000001", method_id=card)
    place(service, kit, "O-2026-000002", kind="po", po_number="PO-2")
    assert as_reseller.get("/invoices/summary").get_json() == {"unpaid": 1, "overdue": 0}
    service.clock.advance(days=20)
    place(service, kit, "O-2026-000003", kind="po", po_number="PO-3")
    service.clock.advance(days=11)
    mark_overdue(service)
    assert as_reseller.get("/invoices/summary").get_json() == {"unpaid": 2, "overdue": 1}


def test_another_tenant_sees_nothing_of_these_invoices(service, kit, app):
    place(service, kit, "O-2026-000001", kind="po", po_number="PO-1")
    other = Api(app, OTHER_RESELLER)
    assert other.get("/invoices").get_json()["items"] == []
    assert other.get("/invoices/INV-PS-2026-000001").status_code == 404
    assert other.get("/invoices/INV-PS-2026-000001/pdf").status_code == 404
    assert other.get("/invoices/summary").get_json() == {"unpaid": 0, "overdue": 0}
    card = kit.store_card(service, f"reseller:{demo.OTHER_RESELLER_ID}", demo.SUCCESS_CARD)
    resp = other.post("/invoices/INV-PS-2026-000001/pay", json={"payment_method_id": card})
    assert resp.status_code == 404
    # A customer admin of the invoiced account does not see the reseller's invoice either.
    acme = Api(app, ACME_ADMIN)
    assert acme.get("/invoices/INV-PS-2026-000001").status_code == 404


def test_customer_buying_directly_sees_its_own_invoices(service, kit, app):
    card = kit.store_card(service, f"customer:{demo.ACME_ID}", demo.SUCCESS_CARD)
    place(service, kit, "O-2026-000001", method_id=card, buyer=kit.customer_buyer())
    acme = Api(app, ACME_ADMIN)
    [item] = acme.get("/invoices").get_json()["items"]
    assert item["number"] == "INV-PS-2026-000001" and item["status"] == "paid"


def test_sales_users_do_not_see_invoices(service, kit, app):
    sales = Api(app, reseller(roles=("sales",)))
    assert sales.get("/invoices").status_code == 403
    assert sales.get("/invoices/summary").status_code == 403


def test_unauthenticated_requests_get_401(app):
    assert app.test_client().get("/invoices").status_code == 401


def test_paying_an_invoice_twice_is_a_conflict(service, kit, as_reseller):
    card = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    place(service, kit, "O-2026-000001", method_id=card)
    resp = as_reseller.post("/invoices/INV-PS-2026-000001/pay", json={"payment_method_id": card})
    assert resp.status_code == 409
    assert resp.mimetype == "application/problem+json"


def test_paying_with_an_unknown_method_is_refused(service, kit, as_reseller):
    place(service, kit, "O-2026-000001", kind="po", po_number="PO-1")
    resp = as_reseller.post("/invoices/INV-PS-2026-000001/pay", json={"payment_method_id": "pm-x"})
    assert resp.status_code == 422
    assert "payment_method_id" in resp.get_json()["errors"]
    resp = as_reseller.post(
        "/invoices/INV-PS-2026-000001/pay", json={"payment_method_id": "pm-x", "amount": "1"}
    )
    assert resp.status_code == 422 and "amount" in resp.get_json()["errors"]


def test_declined_card_then_grace_then_payment_reinstates(service, kit, as_reseller):
    declined = kit.store_card(service, kit.RESELLER_TENANT, demo.DECLINED_CARD)
    place(service, kit, "O-2026-000001", method_id=declined)
    [failed] = recorded(service, "billing.payment.failed")
    assert failed["grace_until"] == "2026-11-29"
    body = as_reseller.get("/invoices/INV-PS-2026-000001").get_json()
    assert body["status"] == "not_paid" and body["payment_failure_reason"] == "card_declined"
    assert body["grace_until"] == "2026-11-29"

    # Past the grace period the unpaid invoice is overdue (license-assign suspends on its own).
    service.clock.advance(days=8)
    assert mark_overdue(service) == 1
    assert as_reseller.get("/invoices/summary").get_json() == {"unpaid": 1, "overdue": 1}

    # Trying the declined card again is declined again and changes nothing.
    again = as_reseller.post(
        "/invoices/INV-PS-2026-000001/pay", json={"payment_method_id": declined}
    )
    assert again.status_code == 402
    assert recorded(service, "billing.payment.captured") == []

    good = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    paid = as_reseller.post("/invoices/INV-PS-2026-000001/pay", json={"payment_method_id": good})
    assert paid.status_code == 200
    assert paid.get_json()["status"] == "paid" and paid.get_json()["overdue"] is False
    [captured] = recorded(service, "billing.payment.captured")
    assert captured["order_number"] == "O-2026-000001"
    assert as_reseller.get("/invoices/summary").get_json() == {"unpaid": 0, "overdue": 0}
