"""The printed quote: a one-document PDF with everything a buyer needs to order against it."""

from __future__ import annotations

import datetime as dt

from fpdf.enums import XPos, YPos

from cart_quote.handlers import effective_status
from cart_quote.models import Quote
from portal_runtime.documents import Document, render

KIND_LABELS = {
    "new": "New subscription",
    "renewal": "Renewal",
    "upgrade": "Upgrade",
    "downgrade": "Downgrade",
}


def _address(address: dict | None) -> list[str]:
    if not address:
        return []
    city = " ".join(
        part for part in (address.get("postal_code"), address.get("city")) if part
    ).strip()
    rows = [
        address.get("name"),
        address.get("line1"),
        address.get("line2"),
        ", ".join(p for p in (city, address.get("region")) if p),
        address.get("country"),
        f"VAT ID {address['vat_id']}" if address.get("vat_id") else None,
    ]
    return [row for row in rows if row]


def render_quote(quote: Quote, today: dt.date, reseller_name: str | None = None) -> bytes:
    """The quote as a PDF; ``reseller_name`` names a reseller the quote itself knows only by id
    (a claimed direct quote)."""
    return render(lambda pdf: draw_quote(pdf, quote, today, reseller_name))


def draw_quote(pdf: Document, quote: Quote, today: dt.date, reseller_name: str | None) -> None:
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(pdf.text(f"Quote {quote.number}"))
    pdf.add_page()

    def line(text: str = "", size: int = 10, style: str = "", height: float = 5.5) -> None:
        pdf.use_font(style=style, size=size)
        pdf.cell(0, height, pdf.text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(f"Quote {quote.number}", size=18, style="B", height=10)
    status = effective_status(quote, today)
    line(f"Status: {status}")
    line(f"Issued: {quote.issued_at.date().isoformat()}")
    line(f"Valid until: {quote.valid_until.isoformat()}")
    if quote.po_number:
        line(f"PO number: {quote.po_number}")
    line()

    buyer = quote.buyer or {}
    if quote.reseller_id:
        line("Reseller", style="B")
        name = buyer.get("name")
        if not name or name == quote.reseller_id:
            name = reseller_name or quote.reseller_id
        line(f"{name} ({quote.reseller_id})")
        if buyer.get("email"):
            line(buyer["email"])
    elif quote.kind == "direct":
        line("Issued by", style="B")
        line("Vendor sales (direct quote)")
    else:
        line("Buyer", style="B")
        line(f"{buyer.get('name') or quote.customer_name} (the customer)")
    line()
    line("Customer", style="B")
    line(f"{quote.customer_name} ({quote.customer_id})")
    if quote.customer_email:
        line(quote.customer_email)
    line()
    end_user = quote.end_user or {}
    line("End user (licensee)", style="B")
    line(f"{end_user.get('first_name', '')} {end_user.get('last_name', '')}".strip())
    line(end_user.get("email", ""))
    address = _address(quote.billing_address)
    if address:
        line()
        line("Billing address", style="B")
        for row in address:
            line(row)
    line()

    widths = (8, 50, 12, 24, 24, 24, 22, 26)
    headers = ("#", "Product", "Qty", "Start", "End", "Kind", "Unit", "Amount")
    pdf.use_font(style="B", size=9)
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 7, header, border="B")
    pdf.ln(7)
    pdf.use_font(size=9)
    for item in quote.lines:
        cells = (
            str(item.line_no),
            f"{item.product_name} ({item.product})",
            str(item.quantity),
            item.start_date.isoformat(),
            item.end_date.isoformat(),
            KIND_LABELS.get(item.kind, item.kind),
            f"{item.unit_price:.2f}",
            f"{item.amount:.2f}",
        )
        for width, cell in zip(widths, cells, strict=True):
            pdf.cell(width, 6, pdf.text(cell)[:40])
        pdf.ln(6)
        if not item.fallback_eligible:
            pdf.use_font(style="I", size=8)
            pdf.cell(8, 5, "")
            pdf.cell(0, 5, "Under one year of cover: no perpetual fallback license.")
            pdf.ln(5)
            pdf.use_font(size=9)
    pdf.use_font(style="B", size=11)
    pdf.ln(2)
    pdf.cell(0, 8, pdf.text(f"Total: {quote.total:.2f} {quote.currency}"), align="R", border="T")
    pdf.ln(10)
    pdf.use_font(size=8)
    pdf.multi_cell(
        0,
        4,
        pdf.text(
            f"Prices in {quote.currency}, excluding taxes. This quote is valid until "
            f"{quote.valid_until.isoformat()}; order it with your PO before then."
        ),
    )
