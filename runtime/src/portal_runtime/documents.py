"""The PDF documents services print (quotes, invoices): A4, in one font, written as given.

fpdf2's built-in fonts speak Latin-1 only, so "Łódź" would print as "?ód?". Where a Unicode
TrueType font is installed (DejaVu Sans: Debian's ``fonts-dejavu-core``, which the images
install; ``PDF_FONT_DIR`` names another folder holding the same files) documents embed it and
print names as written; without one they fall back to Helvetica and show what Latin-1 lacks as
``?`` rather than failing.
"""

from __future__ import annotations

import functools
import os
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

    def __init__(self):
        super().__init__(format="A4")
        files = unicode_font()
        self.family = "PortalSans" if files else "Helvetica"
        for style, path in (files or {}).items():
            self.add_font(self.family, style, str(path))

    @property
    def unicode(self) -> bool:
        return self.family != "Helvetica"

    def use_font(self, style: str = "", size: float = 10) -> None:
        self.set_font(self.family, style, size)

    def text(self, value: object) -> str:
        """``value`` as this document's font can print it."""
        text = "" if value is None else str(value)
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")
