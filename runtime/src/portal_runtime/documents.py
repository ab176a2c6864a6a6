"""The PDF documents services print (quotes, invoices): A4, in one font, written as given.

fpdf2's built-in fonts speak Latin-1 only, so "Łódź" would print as "?ód?". :func:`render` draws
a document in Helvetica, which costs a few milliseconds; only when something in it is outside
Latin-1 and a Unicode TrueType font is installed (DejaVu Sans: Debian's ``fonts-dejavu-core``,
which the images install; ``PDF_FONT_DIR`` names another folder holding the same files) does it
draw it again embedding that font (about 0.1 s: the font files are parsed per document), so names
print as written. Without such a font, what Latin-1 lacks shows as ``?`` rather than failing.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

from fpdf import FPDF

FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")


@functools.cache
def unicode_font() -> dict[str, Path] | None:
    """The font files per style (regular, bold, italic), if all of them are installed."""
    folders = [os.environ["PDF_FONT_DIR"]] if os.environ.get("PDF_FONT_DIR") else []
    for folder in [*folders, *FONT_DIRS]:
        files = {style: Path(folder) / name for style, name in FONT_FILES.items()}
        if all(path.is_file() for path in files.values()):
            return files
    return None


class Document(FPDF):
    """An A4 document; ``use_font`` and ``text`` instead of ``set_font`` and raw strings."""

    def __init__(self, unicode: bool = False):
        super().__init__(format="A4")
        files = unicode_font() if unicode else None
        self.family = "PortalSans" if files else "Helvetica"
        for style, path in (files or {}).items():
            self.add_font(self.family, style, str(path))
        # Whether ``text`` had to replace a character this document's font cannot print.
        self.lost_characters = False

    @property
    def unicode(self) -> bool:
        return self.family != "Helvetica"

    def use_font(self, style: str = "", size: float = 10) -> None:
        self.set_font(self.family, style, size)

    def text(self, value: object) -> str:
        """``value`` as this document's font can print it."""
        text = "" if value is None else str(value)
        if self.unicode:
            return text
        printable = text.encode("latin-1", "replace").decode("latin-1")
        self.lost_characters = self.lost_characters or printable != text
        return printable


def render(draw: Callable[[Document], None]) -> bytes:
    """The PDF ``draw`` makes: in Helvetica, or in the Unicode font when it needs one."""
    pdf = Document()
    draw(pdf)
    if pdf.lost_characters and unicode_font() is not None:
        pdf = Document(unicode=True)
        draw(pdf)
    return bytes(pdf.output())
