"""Printed documents: Latin-1 text in the built-in font, anything else in an embedded one."""

from __future__ import annotations

import io

from pypdf import PdfReader

from portal_runtime.documents import render, unicode_font
from portal_runtime.testing import needs


def one_line(text: str):
    def draw(pdf) -> None:
        pdf.add_page()
        pdf.use_font("B", 12)
        pdf.cell(0, 10, pdf.text(text))

    return draw


def fonts_and_text(data: bytes) -> tuple[set[str], str]:
    page = PdfReader(io.BytesIO(data)).pages[0]
    fonts = {str(font["/BaseFont"]) for font in page["/Resources"]["/Font"].values()}
    return fonts, page.extract_text()


def test_latin_1_text_uses_the_built_in_font_and_embeds_nothing():
    fonts, text = fonts_and_text(render(one_line("Zürich GmbH, Ada Lovelace")))
    assert fonts == {"/Helvetica-Bold"}
    assert "Zürich GmbH, Ada Lovelace" in text


@needs("a Unicode TrueType font", unicode_font(), "apt-get install fonts-dejavu-core")
def test_text_outside_latin_1_is_drawn_again_in_the_unicode_font():
    fonts, text = fonts_and_text(render(one_line("Łukasz Ćwik, Łódź")))
    assert len(fonts) == 1 and "DejaVu" in next(iter(fonts))
    assert "Łukasz Ćwik, Łódź" in text
