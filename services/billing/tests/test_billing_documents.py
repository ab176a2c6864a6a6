"""Invoice and credit-note PDFs as an accountant reads them: text read back with pypdf, each
page rendered to PNG with pdftoppm (poppler-utils) and checked not blank, names in any script."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess

from pypdf import PdfReader

from portal_contracts import demo
from portal_runtime.documents import cjk_font, unicode_font
from portal_runtime.testing import deliver, event, needs

REVERSE = "Reverse charge: VAT to be accounted for by the recipient"


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def ink(content: bytes, tmp_path, name: str) -> float:
    """Share of non-white pixels of the first page, rendered by pdftoppm (grayscale PGM)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(content)
    out = tmp_path / name
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "50", "-singlefile", str(path), str(out)],
        check=True,
        timeout=60,
    )
    data = (tmp_path / f"{name}.pgm").read_bytes()
    magic, width, height, _maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5"
    pixels = pixels[: int(width) * int(height)]
    return sum(1 for value in pixels if value < 200) / len(pixels)


needs_pdftoppm = needs("pdftoppm", shutil.which("pdftoppm"), "apt-get install poppler-utils")


def issue(service, kit, number, address, tax, **kw):
    payload = kit.order_placed(number, **kw)
    payload["billing_address"] = address
    subtotal = payload["total"]
    payload["subtotal"] = subtotal
    payload["tax"] = tax
    payload["total"] = f"{float(subtotal) + sum(float(t['amount']) for t in tax):.2f}"
    for line in payload["lines"]:
        line["product_name"] = "PyCharm Professional"
    deliver(service, event("orders.order.placed", payload))
    return payload


GERMAN_BUSINESS = {
    "name": "Muster GmbH",
    "line1": "Hauptstraße 1",
    "line2": None,
    "city": "Berlin",
    "postal_code": "10115",
    "region": None,
    "country": "DE",
    "vat_id": "DE136695976",
}
DUTCH_BUYER = {**GERMAN_BUSINESS, "name": "Voorbeeld B.V.", "country": "NL", "vat_id": None}


@needs_pdftoppm
def test_a_reverse_charged_invoice_and_its_credit_note_read_as_an_accountant_expects(
    service, kit, as_reseller, tmp_path
):
    tax = [{"rate": "0", "amount": "0.00", "note": REVERSE + " (Article 196, Directive)"}]
    issue(service, kit, "O-2026-000001", GERMAN_BUSINESS, tax, kind="po", po_number="PO-9")
    invoice = as_reseller.get("/invoices/INV-PS-2026-000001").get_json()
    assert (invoice["subtotal"], invoice["amount"], invoice["amount_due"]) == (
        "448.20",
        "448.20",
        "448.20",
    )
    pdf = as_reseller.get("/invoices/INV-PS-2026-000001/pdf").data
    assert hashlib.sha256(pdf).hexdigest() == invoice["pdf_sha256"]
    text = pdf_text(pdf)
    for expected in (
        "Portal Software B.V.",  # the seller, its VAT number and bank
        "NL123456782B01",
        "NL91 ABNA 0417 1643 00",
        "Muster GmbH",  # billed to, as given
        "Hauptstraße 1",
        "10115 Berlin",
        "VAT ID: DE136695976",
        "Acme Corp",  # the end customer
        "Customer ID: C-100001",
        "PyCharm Professional",  # the product's name, not its code
        "New subscription",
        "448.20 USD",
        "Reverse charge",
        "Net 30: due on 2026-12-22",
        "INV-PS-2026-000001 / PO-9",
    ):
        assert expected in text, expected
    assert 0.005 < ink(pdf, tmp_path, "invoice") < 0.5

    deliver(
        service,
        event(
            "orders.order.cancelled",
            {
                "order_number": "O-2026-000001",
                "cancelled_at": "2026-11-23T10:00:00+00:00",
                "buyer": kit.order_placed("x")["buyer"],
                "reseller_id": demo.DEMO_RESELLER_ID,
                "customer": kit.order_placed("x")["customer"],
                "license_ids": [],
                "reason": "ordered twice",
            },
        ),
    )
    note = as_reseller.get("/invoices/INV-PS-2026-000001/credit-note/pdf")
    assert note.status_code == 200
    text = pdf_text(note.data)
    for expected in (
        "Credit note",
        "CN-PS-2026-000001",
        "INV-PS-2026-000001",
        "Muster GmbH",
        "PyCharm Professional",
        "-448.20 USD",
        "Reverse charge",
        "Reason: ordered twice",
    ):
        assert expected in text, expected
    assert as_reseller.get("/invoices/INV-PS-2026-000001/credit-note/pdf").data == note.data
    assert 0.005 < ink(note.data, tmp_path, "credit-note") < 0.5


def test_a_domestic_card_invoice_shows_the_vat_and_says_it_is_paid(service, kit, as_reseller):
    method = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    tax = [{"rate": "21", "amount": "94.12", "note": "VAT 21 % (NL)"}]
    issue(service, kit, "O-2026-000001", DUTCH_BUYER, tax, method_id=method)
    invoice = as_reseller.get("/invoices/INV-PS-2026-000001").get_json()
    # The card was charged the gross amount; the invoice says so to the cent.
    assert (invoice["subtotal"], invoice["amount"]) == ("448.20", "542.32")
    assert invoice["tax"] == tax
    assert (invoice["amount_paid"], invoice["amount_due"]) == ("542.32", "0.00")
    with service.sessions() as session:
        from sqlalchemy import select

        from billing.models import Payment

        assert [str(p.amount) for p in session.scalars(select(Payment))] == ["542.32"]
    text = pdf_text(as_reseller.get("/invoices/INV-PS-2026-000001/pdf").data)
    for expected in ("VAT 21 % (NL)", "94.12 USD", "542.32 USD", "Paid on 2026-11-22 by Visa"):
        assert expected in text, expected


@needs(
    "a Unicode and a CJK font",
    unicode_font() and cjk_font(),
    "apt-get install fonts-dejavu-core fonts-ipafont-gothic",
)
@needs_pdftoppm
def test_names_in_any_script_print_as_written(service, kit, as_reseller, tmp_path):
    names = {
        "O-2026-000001": "Žluťoučký kůň s.r.o.",
        "O-2026-000002": "株式会社山田製作所",
        "O-2026-000003": "شركة الأمل للتجارة",
    }
    for number, name in names.items():
        address = {**GERMAN_BUSINESS, "name": name, "country": "US", "vat_id": None}
        issue(service, kit, number, address, [], kind="po", po_number="PO-1")
    for index, name in enumerate(names.values(), start=1):
        pdf = as_reseller.get(f"/invoices/INV-PS-2026-{index:06d}/pdf").data
        assert name in pdf_text(pdf), name
        assert 0.005 < ink(pdf, tmp_path, f"name-{index}") < 0.5
