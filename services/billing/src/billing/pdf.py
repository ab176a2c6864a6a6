"""Invoice and credit-note PDFs as an accountant reads them (fpdf2).

Both carry the same blocks: the seller (legal name, address, VAT number, registration), who is
billed (the billing address as given at checkout or on the quote) beside the end customer (the
licensee organisation and its customer ID), the lines by product name, then subtotal, tax per
rate, total, amount paid and amount due, the tax mentions (reverse charge, outside the scope of
EU VAT) and the payment terms. A credit note names the invoice it corrects and prints the same
figures negative.

Each is drawn only from what the document stored when it was issued (seller and terms
snapshots included), so rendering it again would give the same bytes; it is rendered once and
stored (``billing.documents``). Names print as written (``portal_runtime.documents``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.models import CreditNote, Invoice
from portal_runtime.documents import (
    Document,
    address_lines,
    bank_lines,
    draw_heading,
    draw_lines,
    draw_notes,
    draw_parties,
    draw_sums,
    money,
    render,
    tax_notes,
    tax_sum_rows,
)
from portal_runtime.seller import seller_from

ZERO = Decimal("0.00")
METHOD_NAMES = {"card": "card", "paypal": "PayPal", "po": "bank transfer"}


def invoice_tax(invoice: Invoice) -> list[dict]:
    return list(invoice.tax or [])


def invoice_subtotal(invoice: Invoice) -> Decimal:
    return invoice.amount if invoice.subtotal is None else invoice.subtotal


def paid_at_issue(invoice: Invoice) -> Decimal:
    """What the invoice, as issued, says was already paid: all of it after an approved charge."""
    terms = invoice.terms or {}
    return invoice.amount if terms.get("kind") == "paid" else ZERO


def billed_to(invoice: Invoice) -> list[str]:
    """The billing address as given; without one, the buyer as the order named it."""
    lines = address_lines(invoice.billing_address)
    if lines:
        return lines
    buyer = invoice.buyer or {}
    return [line for line in (buyer.get("name"), buyer.get("email")) if line]


def end_customer(invoice: Invoice) -> list[str]:
    lines = [invoice.customer_name, f"Customer ID: {invoice.customer_id}"]
    if invoice.customer_email:
        lines.append(invoice.customer_email)
    buyer = invoice.buyer or {}
    if buyer.get("kind") == "reseller":
        lines.append(f"Ordered by: {buyer.get('name')} ({buyer.get('reseller_id')})")
    return lines


def line_rows(invoice: Invoice) -> list[dict]:
    return [
        {
            "product_name": line.product_name or line.product,
            "kind": line.order_kind or line.kind,
            "quantity": line.quantity,
            "start_date": line.start_date,
            "end_date": line.end_date,
            "unit_price": line.unit_price,
            "amount": line.amount,
        }
        for line in invoice.lines
    ]


def terms_lines(invoice: Invoice) -> tuple[str, list[str]]:
    """The payment block of an invoice: paid when and how, or how and by when to pay it."""
    terms = invoice.terms or {}
    seller = seller_from(invoice.seller)
    kind = terms.get("kind")
    if kind == "paid":
        paid_on = terms.get("paid_on", "")
        how = terms.get("method_label") or METHOD_NAMES.get(terms.get("method", ""), "")
        return "Payment", [
            f"Paid on {paid_on} by {how}. Nothing is due.",
            f"Payment reference: {terms.get('reference', invoice.order_number)}",
        ]
    if kind == "payment_failed":
        how = terms.get("method_label") or METHOD_NAMES.get(terms.get("method", ""), "")
        return "Payment", [
            f"The charge to {how} on {terms.get('attempted_on', '')} was declined.",
            f"Amount due: {money(invoice.amount, invoice.currency)} by {terms.get('due_date')}; "
            "pay it in the Partner Portal with another payment method, or by bank transfer to:",
            *bank_lines(seller),
            f"Reference: {terms.get('reference', invoice.number)}",
        ]
    net = terms.get("net_days", 30)
    return "Payment terms", [
        f"Net {net}: due on {terms.get('due_date', invoice.due_date.isoformat())}. "
        f"Amount due: {money(invoice.amount, invoice.currency)}.",
        "Please pay by bank transfer to:",
        f"Account holder: {seller.get('name', '')}",
        *bank_lines(seller),
        f"Reference (quote it with the transfer): {terms.get('reference', invoice.number)}",
    ]


def render_invoice(invoice: Invoice) -> bytes:
    return render(lambda pdf: draw_invoice(pdf, invoice))


def _start(pdf: Document, title: str, issued_at: dt.datetime) -> None:
    pdf.set_title(pdf.text(title))
    pdf.set_author("Partner Portal billing")
    pdf.set_creation_date(issued_at)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()


def draw_invoice(pdf: Document, invoice: Invoice) -> None:
    seller = seller_from(invoice.seller)
    _start(pdf, f"Invoice {invoice.number}", invoice.issued_at)
    facts = [
        ("Invoice number", invoice.number),
        ("Invoice date", invoice.issued_on.isoformat()),
        ("Due date", invoice.due_date.isoformat()),
        ("Order number", invoice.order_number),
    ]
    if invoice.po_number:
        facts.append(("PO number", invoice.po_number))
    facts.append(("Currency", invoice.currency))
    draw_heading(pdf, "Invoice", seller, facts)
    draw_parties(pdf, [("Billed to", billed_to(invoice)), ("End customer", end_customer(invoice))])
    draw_lines(pdf, line_rows(invoice), invoice.currency)
    tax = invoice_tax(invoice)
    paid = paid_at_issue(invoice)
    draw_sums(
        pdf,
        [
            ("Subtotal (net)", money(invoice_subtotal(invoice), invoice.currency), False),
            *tax_sum_rows(tax, invoice.currency),
            ("Total", money(invoice.amount, invoice.currency), True),
            ("Amount paid", money(paid, invoice.currency), False),
            ("Amount due", money(invoice.amount - paid, invoice.currency), True),
        ],
    )
    draw_notes(pdf, "Tax", tax_notes(tax))
    title, lines = terms_lines(invoice)
    draw_notes(pdf, title, lines)


def render_credit_note(note: CreditNote) -> bytes:
    return render(lambda pdf: draw_credit_note(pdf, note))


def draw_credit_note(pdf: Document, note: CreditNote) -> None:
    invoice = note.invoice
    seller = seller_from(invoice.seller)
    _start(pdf, f"Credit note {note.number}", note.issued_at)
    facts = [
        ("Credit note number", note.number),
        ("Date", note.issued_on.isoformat()),
        ("Corrects invoice", invoice.number),
        ("Invoice date", invoice.issued_on.isoformat()),
        ("Order number", invoice.order_number),
    ]
    if invoice.po_number:
        facts.append(("PO number", invoice.po_number))
    facts.append(("Currency", note.currency))
    draw_heading(pdf, "Credit note", seller, facts)
    draw_parties(pdf, [("Billed to", billed_to(invoice)), ("End customer", end_customer(invoice))])
    draw_lines(pdf, line_rows(invoice), note.currency, sign=-1)
    tax = list(note.tax if note.tax is not None else invoice_tax(invoice))
    subtotal = note.amount if note.subtotal is None else note.subtotal
    settled = (
        f"Refunded to the original payment method on {note.issued_on.isoformat()}"
        + (f" (reference {note.refund_reference})." if note.refund_reference else ".")
        if note.refunded
        else f"Applied to invoice {invoice.number}, which is settled: nothing is due."
    )
    draw_sums(
        pdf,
        [
            ("Subtotal (net)", money(-subtotal, note.currency), False),
            *tax_sum_rows(tax, note.currency, sign=-1),
            ("Total credited", money(-note.amount, note.currency), True),
        ],
    )
    draw_notes(pdf, "Tax", tax_notes(tax))
    reason = [f"Reason: {note.reason}"] if note.reason else []
    draw_notes(
        pdf,
        "Settlement",
        [f"This credit note cancels invoice {invoice.number} in full.", settled, *reason],
    )
