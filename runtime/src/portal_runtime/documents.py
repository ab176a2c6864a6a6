"""The PDF documents services print (quotes, invoices, credit notes): A4, names as written.

fpdf2's built-in fonts speak Latin-1 only, so "Łódź" would print as "?ód?". :func:`render` draws
a document in Helvetica, which costs a few milliseconds; only when something in it is outside
Latin-1 does it draw it again embedding Unicode fonts, chosen by what the text needs:

- **DejaVu Sans** (Debian's ``fonts-dejavu-core``) for Latin, Greek, Cyrillic, Arabic, Hebrew...;
- a **CJK font** as fallback for Chinese, Japanese and Korean (IPAGothic: Debian's
  ``fonts-ipafont-gothic``; ``PDF_CJK_FONT`` names another TrueType file), only when the text has
  such characters (parsing it costs about 0.4 s);
- **text shaping** with HarfBuzz (``uharfbuzz``) when the text has a script that needs it
  (Arabic joins its letters and runs right to left; Devanagari, Hebrew...).

``PDF_FONT_DIR`` names another folder holding the DejaVu files. Without such fonts, what
Latin-1 lacks shows as ``?`` rather than failing. Rendering is deterministic: the same document
drawn twice gives the same bytes (the creation date is the document's own).

The blocks every commercial document shares (seller, parties, lines, sums) are drawn here once.
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")
CJK_FONTS = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


@functools.cache
def unicode_font() -> dict[str, Path] | None:
    """The font files per style (regular, bold, italic), if all of them are installed."""
    folders = [os.environ["PDF_FONT_DIR"]] if os.environ.get("PDF_FONT_DIR") else []
    for folder in [*folders, *FONT_DIRS]:
        files = {style: Path(folder) / name for style, name in FONT_FILES.items()}
        if all(path.is_file() for path in files.values()):
            return files
    return None


@functools.cache
def cjk_font() -> Path | None:
    """A TrueType font with Chinese, Japanese and Korean glyphs, if one is installed."""
    named = [os.environ["PDF_CJK_FONT"]] if os.environ.get("PDF_CJK_FONT") else []
    for path in map(Path, [*named, *CJK_FONTS]):
        if path.is_file():
            return path
    return None


@functools.cache
def can_shape() -> bool:
    try:
        import uharfbuzz  # noqa: F401
    except ImportError:
        return False
    return True


def is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, kana, CJK symbols, unified ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x3FFFF
    )


def needs_shaping(char: str) -> bool:
    """Scripts whose letters change form or order when written (Arabic, Hebrew, Indic, Thai)."""
    code = ord(char)
    return 0x0590 <= code <= 0x08FF or 0x0900 <= code <= 0x0DFF or 0x0E00 <= code <= 0x0EFF


class Document(FPDF):
    """An A4 document; ``use_font`` and ``text`` instead of ``set_font`` and raw strings."""

    def __init__(self, unicode: bool = False, cjk: bool = False, shaping: bool = False):
        super().__init__(format="A4")
        files = unicode_font() if unicode else None
        self.family = "PortalSans" if files else "Helvetica"
        for style, path in (files or {}).items():
            self.add_font(self.family, style, str(path))
        fallbacks = []
        cjk_file = cjk_font() if (files and cjk) else None
        if cjk_file is not None:
            for style in ("", "B", "I"):
                self.add_font("PortalCJK", style, str(cjk_file))
            fallbacks.append("PortalCJK")
        if files:
            # Bold and italic DejaVu lack some scripts the regular face has (Arabic).
            for style in ("", "B", "I"):
                self.add_font("PortalSansPlain", style, str(files[""]))
            fallbacks.append("PortalSansPlain")
            self.set_fallback_fonts(fallbacks, exact_match=False)
        if files and shaping and can_shape():
            self.set_text_shaping(True)
        # Whether ``text`` had to replace a character this document's font cannot print, and
        # which scripts the text needs.
        self.lost_characters = False
        self.has_cjk = False
        self.has_complex_script = False

    @property
    def unicode(self) -> bool:
        return self.family != "Helvetica"

    def use_font(self, style: str = "", size: float = 10) -> None:
        self.set_font(self.family, style, size)

    def text(self, value: object) -> str:
        """``value`` as this document's font can print it."""
        text = "" if value is None else unicodedata.normalize("NFC", str(value))
        if self.unicode:
            return text
        printable = text.encode("latin-1", "replace").decode("latin-1")
        if printable != text:
            self.lost_characters = True
            self.has_cjk = self.has_cjk or any(is_cjk(c) for c in text)
            self.has_complex_script = self.has_complex_script or any(needs_shaping(c) for c in text)
        return printable


def render(draw: Callable[[Document], None]) -> bytes:
    """The PDF ``draw`` makes: in Helvetica, or in the Unicode fonts when it needs them."""
    pdf = Document()
    draw(pdf)
    if pdf.lost_characters and unicode_font() is not None:
        pdf = Document(unicode=True, cjk=pdf.has_cjk, shaping=pdf.has_complex_script)
        draw(pdf)
    return bytes(pdf.output())


# -- the blocks of a commercial document ------------------------------------------------------

KIND_LABELS = {
    "new": "New subscription",
    "renewal": "Renewal",
    "upgrade": "Upgrade",
    "downgrade": "Downgrade",
}
PAGE_WIDTH = 190  # A4 less 10 mm margins


def money(amount: Decimal | str | None, currency: str) -> str:
    """``1,234.50 EUR``; a negative amount keeps its sign (credit notes)."""
    value = Decimal(str(amount if amount is not None else "0"))
    return f"{value:,.2f} {currency}"


def percent(rate: Decimal | str) -> str:
    return f"{Decimal(str(rate)).normalize():f}"


def address_lines(address: dict | None) -> list[str]:
    """A billing address as printed: name, street lines, postal code and city, region,
    country, VAT ID, each as given."""
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


def seller_lines(seller: dict) -> list[str]:
    """The seller's letterhead lines below its name."""
    return [
        *seller.get("address_lines", []),
        " ".join(p for p in (seller.get("postal_code"), seller.get("city")) if p),
        seller.get("country", ""),
        f"VAT number: {seller.get('vat_id', '')}",
        seller.get("registration", ""),
        seller.get("email", ""),
    ]


def bank_lines(seller: dict) -> list[str]:
    from portal_runtime.seller import grouped_iban

    return [
        f"Bank: {seller.get('bank_name', '')}",
        f"IBAN: {grouped_iban(seller.get('iban', ''))}",
        f"BIC: {seller.get('bic', '')}",
    ]


def _row(pdf: Document, text: str, size: float = 9, style: str = "", height: float = 4.6):
    pdf.use_font(style, size)
    pdf.cell(0, height, pdf.text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def draw_heading(pdf: Document, title: str, seller: dict, facts: Iterable[tuple[str, str]]) -> None:
    """The seller's letterhead on the left; the document's title and facts on the right."""
    top = pdf.get_y()
    pdf.use_font("B", 12)
    pdf.cell(100, 6, pdf.text(seller.get("name", "")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for line in seller_lines(seller):
        if line:
            _row(pdf, line, size=8.5, height=4.2)
    left_bottom = pdf.get_y()
    pdf.set_xy(110, top)
    pdf.use_font("B", 16)
    pdf.cell(90, 8, pdf.text(title), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    for label, value in facts:
        pdf.set_x(110)
        pdf.use_font("", 9)
        pdf.cell(38, 4.8, pdf.text(label), align="R")
        pdf.use_font("B", 9)
        pdf.cell(52, 4.8, pdf.text(value), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin, max(left_bottom, pdf.get_y()) + 4)


def draw_parties(pdf: Document, columns: list[tuple[str, list[str]]]) -> None:
    """Side by side boxes: who is billed (the address as given) and the end customer."""
    top = pdf.get_y()
    width = PAGE_WIDTH / len(columns)
    bottom = top
    for index, (title, lines) in enumerate(columns):
        x = pdf.l_margin + index * width
        pdf.set_xy(x, top)
        pdf.use_font("B", 9)
        pdf.cell(width - 4, 5, pdf.text(title), border="B", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.use_font("", 9)
        for line in lines:
            pdf.set_x(x)
            pdf.cell(width - 4, 4.6, pdf.text(line), new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom + 5)


LINE_WIDTHS = (62, 26, 12, 42, 24, 24)
LINE_HEADERS = ("Product", "Kind", "Qty", "Period", "Unit price", "Net amount")


def draw_lines(pdf: Document, rows: Iterable[dict], currency: str, sign: int = 1) -> None:
    """The table of lines: product name, kind, quantity, period, unit price, net amount.

    ``rows`` (dicts or objects) have ``product_name``, ``kind``, ``quantity``,
    ``start_date``, ``end_date``,
    ``unit_price``, ``amount``; ``sign=-1`` prints the amounts negative (a credit note)."""
    pdf.use_font("B", 8.5)
    pdf.set_fill_color(235, 238, 242)
    for width, title in zip(LINE_WIDTHS, LINE_HEADERS, strict=True):
        align = "R" if title in ("Qty", "Unit price", "Net amount") else "L"
        pdf.cell(width, 6.5, title, border="B", align=align, fill=True)
    pdf.ln(6.5)
    pdf.use_font("", 8.5)
    for item in rows:
        row = item if isinstance(item, dict) else vars(item)
        cells = (
            (pdf.text(row["product_name"]), "L"),
            (KIND_LABELS.get(row["kind"], row["kind"]), "L"),
            (str(row["quantity"]), "R"),
            (f"{row['start_date'].isoformat()} to {row['end_date'].isoformat()}", "L"),
            (money(sign * Decimal(row["unit_price"]), currency), "R"),
            (money(sign * Decimal(row["amount"]), currency), "R"),
        )
        for width, (value, align) in zip(LINE_WIDTHS, cells, strict=True):
            pdf.cell(width, 6, value, border="B", align=align)
        pdf.ln(6)
    pdf.ln(2)


def draw_sums(pdf: Document, rows: Iterable[tuple[str, str, bool]]) -> None:
    """Right-aligned sums: ``(label, amount, bold)``."""
    for label, value, bold in rows:
        pdf.set_x(pdf.l_margin + PAGE_WIDTH - 110)
        pdf.use_font("B" if bold else "", 10 if bold else 9)
        pdf.cell(70, 5.8, pdf.text(label), align="R")
        pdf.cell(40, 5.8, pdf.text(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def tax_sum_rows(tax: list[dict], currency: str, sign: int = 1) -> list[tuple[str, str, bool]]:
    """One sum row per tax rate: "VAT 21 % (NL)" or "VAT 0 % (reverse charge)"."""
    rows = []
    for entry in tax:
        rate = percent(entry["rate"])
        label = entry["note"] if Decimal(str(entry["rate"])) else f"VAT {rate} %"
        rows.append((label, money(sign * Decimal(str(entry["amount"])), currency), False))
    return rows


def draw_notes(pdf: Document, title: str, lines: Iterable[str]) -> None:
    lines = [line for line in lines if line]
    if not lines:
        return
    _row(pdf, title, size=9, style="B", height=5.5)
    pdf.use_font("", 8.5)
    for line in lines:
        pdf.multi_cell(0, 4.4, pdf.text(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def tax_notes(tax: list[dict]) -> list[str]:
    """The legal mentions of zero-rated tax lines (reverse charge, outside the scope)."""
    return [entry["note"] for entry in tax if not Decimal(str(entry["rate"]))]
