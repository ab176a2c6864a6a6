"""Invoice PDFs, rendered once per payment state and stored as issued (fpdf2).

A rendition is never re-rendered or edited: a later change of payment state adds a new version.
Names print as written where a Unicode font is installed (``portal_runtime.documents``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.models import Invoice
from portal_runtime.documents import Document, render

STATUS_LABELS = {"not_paid": "Not paid", "paid": "Paid", "applied": "Applied"}
TYPE_LABELS = {"online": "Online", "credit_note": "Credit Note", "postpaid": "Postpaid"}
KIND_LABELS = {"new": "New subscription", "renewal": "Renewal"}


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def address_lines(address: dict | None) -> list[str]:
    if not address:
        return []
    city = " ".join(p for p in (address.get("postal_code"), address.get("city")) if p)
    lines = [
        address.get("name"),
        address.get("line1"),
        address.get("line2"),
        ", ".join(p for p in (city, address.get("region")) if p),
        address.get("country"),
        f"VAT ID: {address['vat_id']}" if address.get("vat_id") else None,
    ]
    return [line for line in lines if line]


def render_invoice(invoice: Invoice, rendered_at: dt.datetime) -> bytes:
    return render(lambda pdf: draw_invoice(pdf, invoice, rendered_at))


def draw_invoice(pdf: Document, invoice: Invoice, rendered_at: dt.datetime) -> None:
    pdf.set_title(pdf.text(f"Invoice {invoice.number}"))
    pdf.set_author("Partner Portal billing")
    pdf.set_creation_date(rendered_at)
    pdf.add_page()
    pdf.use_font("B", 18)
    pdf.cell(0, 10, pdf.text(f"Invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.use_font("", 10)
    buyer = invoice.buyer or {}
    pdf.cell(
        0,
        6,
        pdf.text(f"Billed to: {buyer.get('name', '')} <{buyer.get('email', '')}>"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for line in address_lines(invoice.billing_address):
        pdf.cell(0, 5, pdf.text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    credit = invoice.credit_note
    facts = [
        ("Invoice number", invoice.number),
        ("Invoice date", invoice.issued_on.isoformat()),
        ("Due date", invoice.due_date.isoformat()),
        ("Status", STATUS_LABELS[invoice.status]),
        ("Payment type", TYPE_LABELS[invoice.payment_type]),
        ("Paid date", invoice.paid_at.date().isoformat() if invoice.paid_at else "-"),
        ("Amount", _money(invoice.amount, invoice.currency)),
        ("Order number", invoice.order_number),
        ("PO number", invoice.po_number or "-"),
        ("Customer ID", invoice.customer_id),
        ("Customer name", invoice.customer_name),
        ("Customer email", invoice.customer_email or "-"),
    ]
    if credit is not None:
        what = "refunded" if credit.refunded else "applied"
        facts.append(("Credit note", f"{credit.number} ({what} {credit.issued_on.isoformat()})"))
    for label, value in facts:
        pdf.use_font("B", 10)
        pdf.cell(45, 6, pdf.text(label + ":"))
        pdf.use_font("", 10)
        pdf.cell(0, 6, pdf.text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    widths = (20, 35, 18, 50, 30, 30)
    pdf.use_font("B", 9)
    for width, title in zip(
        widths, ("Product", "Type", "Quantity", "Period", "Unit price", "Amount"), strict=True
    ):
        pdf.cell(width, 7, title, border=1)
    pdf.ln(7)
    pdf.use_font("", 9)
    for line in invoice.lines:
        cells = (
            pdf.text(line.product),
            KIND_LABELS.get(line.kind, line.kind),
            str(line.quantity),
            f"{line.start_date.isoformat()} to {line.end_date.isoformat()}",
            _money(line.unit_price, invoice.currency),
            _money(line.amount, invoice.currency),
        )
        for width, value in zip(widths, cells, strict=True):
            pdf.cell(width, 7, value, border=1)
        pdf.ln(7)
    pdf.ln(3)
    pdf.use_font("B", 11)
    pdf.cell(
        0,
        7,
        pdf.text(f"Total: {_money(invoice.amount, invoice.currency)}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
