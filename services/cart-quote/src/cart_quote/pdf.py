"""The printed quote: a one-document PDF with everything a buyer needs to order against it.

The same blocks as an invoice (``portal_runtime.documents``): the seller, who is billed (the
billing address as given) beside the end customer, the lines by product name, subtotal, tax per
rate and total, the tax mentions, then how to order it.
"""

from __future__ import annotations

import datetime as dt

from cart_quote.models import Quote
from portal_runtime.documents import (
    Document,
    address_lines,
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


def render_quote(quote: Quote, today: dt.date, reseller_name: str | None = None) -> bytes:
    """The quote as a PDF; ``reseller_name`` names a reseller the quote itself knows only by id
    (a claimed direct quote)."""
    return render(lambda pdf: draw_quote(pdf, quote, today, reseller_name))


def buyer_lines(quote: Quote, reseller_name: str | None) -> tuple[str, list[str]]:
    address = address_lines(quote.billing_address)
    buyer = quote.buyer or {}
    if quote.reseller_id:
        name = buyer.get("name")
        if not name or name == quote.reseller_id:
            name = reseller_name or quote.reseller_id
        who = [f"{name} ({quote.reseller_id})", buyer.get("email")]
    elif quote.kind == "direct":
        who = ["Vendor sales (direct quote)"]
    else:
        who = [f"{buyer.get('name') or quote.customer_name} (the customer)"]
    return "Billed to", address or [w for w in who if w]


def draw_quote(pdf: Document, quote: Quote, today: dt.date, reseller_name: str | None) -> None:
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(pdf.text(f"Quote {quote.number}"))
    pdf.set_creation_date(quote.issued_at)
    pdf.add_page()
    facts = [
        ("Quote number", quote.number),
        ("Issued", quote.issued_at.date().isoformat()),
        ("Valid until", quote.valid_until.isoformat()),
        ("Status", quote.effective_status(today)),
    ]
    if quote.po_number:
        facts.append(("PO number", quote.po_number))
    facts.append(("Currency", quote.currency))
    draw_heading(pdf, "Quote", seller_from(quote.seller), facts)
    end_user = quote.end_user or {}
    licensee = f"{end_user.get('first_name', '')} {end_user.get('last_name', '')}".strip()
    customer = [quote.customer_name, f"Customer ID: {quote.customer_id}", quote.customer_email]
    customer += [f"Licensee contact: {licensee}", end_user.get("email")]
    title, billed = buyer_lines(quote, reseller_name)
    draw_parties(pdf, [(title, billed), ("End customer", [c for c in customer if c])])
    draw_lines(pdf, quote.lines, quote.currency)
    tax = list(quote.tax or [])
    subtotal = quote.total if quote.subtotal is None else quote.subtotal
    draw_sums(
        pdf,
        [
            ("Subtotal (net)", money(subtotal, quote.currency), False),
            *tax_sum_rows(tax, quote.currency),
            ("Total", money(quote.total, quote.currency), True),
        ],
    )
    draw_notes(pdf, "Tax", tax_notes(tax))
    short = [line.line_no for line in quote.lines if not line.fallback_eligible]
    notes = [
        f"Prices in {quote.currency}"
        + (", including the tax above." if tax else ", excluding taxes.")
        + f" This quote is valid until {quote.valid_until.isoformat()}; order it with your PO "
        "before then. Ordered, it is invoiced and due 30 days after the invoice date (Net 30), "
        "payable by bank transfer."
    ]
    if short:
        lines = ", ".join(str(n) for n in short)
        notes.append(f"Line(s) {lines}: under one year of cover, no perpetual fallback license.")
    draw_notes(pdf, "Terms", notes)
