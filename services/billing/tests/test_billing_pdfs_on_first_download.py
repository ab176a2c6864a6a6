"""Invoice and credit-note PDFs are rendered on first download, stored then, and never change.

Placing an order renders no PDF (most are never downloaded; the invoice mail links to it). The
first download renders and stores it; every later one returns the same bytes; two first
downloads at once store one document. On SQLite and on the real PostgreSQL, whose unique-key
waits differ.
"""

from __future__ import annotations

import copy
import hashlib
import io
import threading

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from billing import documents
from billing.bootstrap import create_app
from billing.models import CreditNoteDocument, InvoiceDocument
from portal_contracts import demo, example
from portal_runtime.testing import (
    deliver,
    event,
    held_after,
)
from portal_runtime.testkit import RESELLER, Api

INVOICE = "INV-PS-2026-000001"


@pytest.fixture
def service(service_on_both):
    return service_on_both


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def stored(service, model) -> int:
    with service.sessions() as session:
        return session.scalar(select(func.count(model.id)))


def place_and_cancel(service, kit) -> None:
    """A paid card order, then its cancellation: an invoice and a refunding credit note."""
    method = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    deliver(
        service,
        event("orders.order.placed", kit.order_placed("O-2026-000001", method_id=method)),
    )
    cancelled = copy.deepcopy(example("orders.order.cancelled"))
    cancelled["order_number"] = "O-2026-000001"
    deliver(service, event("orders.order.cancelled", cancelled))


def test_placing_an_order_renders_no_pdf_and_the_first_download_stores_it_for_good(service, kit):
    api = Api(create_app(service), RESELLER)
    place_and_cancel(service, kit)
    assert (stored(service, InvoiceDocument), stored(service, CreditNoteDocument)) == (0, 0)

    first = api.get(f"/invoices/{INVOICE}/pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert INVOICE in pdf_text(first.data)
    assert first.headers["X-Content-SHA256"] == hashlib.sha256(first.data).hexdigest()
    assert stored(service, InvoiceDocument) == 1
    second = api.get(f"/invoices/{INVOICE}/pdf")
    assert second.data == first.data and second.headers["ETag"] == first.headers["ETag"]
    assert stored(service, InvoiceDocument) == 1

    note = api.get(f"/invoices/{INVOICE}/credit-note/pdf")
    assert note.status_code == 200 and "CN-PS-2026-000001" in pdf_text(note.data)
    assert api.get(f"/invoices/{INVOICE}/credit-note/pdf").data == note.data
    assert stored(service, CreditNoteDocument) == 1
    body = api.get(f"/invoices/{INVOICE}").get_json()
    assert body["pdf_sha256"] == hashlib.sha256(first.data).hexdigest()
    assert body["credit_note"]["pdf_sha256"] == hashlib.sha256(note.data).hexdigest()


def test_the_invoice_json_shows_the_digest_of_the_pdf_a_later_download_returns(service, kit):
    """Read first, the invoice's JSON stores the PDF whose SHA-256 it shows."""
    api = Api(create_app(service), RESELLER)
    place_and_cancel(service, kit)
    body = api.get(f"/invoices/{INVOICE}").get_json()
    assert stored(service, InvoiceDocument) == 1 and stored(service, CreditNoteDocument) == 1
    pdf = api.get(f"/invoices/{INVOICE}/pdf").data
    assert body["pdf_sha256"] == hashlib.sha256(pdf).hexdigest()
    note = api.get(f"/invoices/{INVOICE}/credit-note/pdf").data
    assert body["credit_note"]["pdf_sha256"] == hashlib.sha256(note).hexdigest()


@pytest.mark.parametrize(
    ("render", "path", "model"),
    [
        ("render_invoice", f"/invoices/{INVOICE}/pdf", InvoiceDocument),
        ("render_credit_note", f"/invoices/{INVOICE}/credit-note/pdf", CreditNoteDocument),
    ],
)
def test_two_first_downloads_at_once_store_one_document_and_get_the_same_bytes(
    service, kit, monkeypatch, render, path, model
):
    app = create_app(service)
    place_and_cancel(service, kit)
    renders = []
    # Both downloads have rendered (neither found a stored PDF) before either stores its own.
    held = held_after(getattr(documents, render), timeout=10)
    monkeypatch.setattr(documents, render, lambda doc: renders.append(doc) or held(doc))
    answers: dict[int, object] = {}

    def download(slot: int) -> None:
        answers[slot] = Api(app, RESELLER).get(path)

    threads = [threading.Thread(target=download, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(renders) == 2
    assert [answers[slot].status_code for slot in (0, 1)] == [200, 200]
    assert answers[0].data == answers[1].data
    assert answers[0].headers["X-Content-SHA256"] == answers[1].headers["X-Content-SHA256"]
    assert stored(service, model) == 1
    assert Api(app, RESELLER).get(path).data == answers[0].data
