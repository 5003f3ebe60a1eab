"""The PDF export laid out by LibreOffice, measured on the rendered pages against GB/T 9704-2012:
A4, the type area's margins, 28 characters a line, 22 lines a page, page numbers outside on odd
and even pages, the 落款 at the end. The first pages are saved as PNG in tests/artifacts/ to be
looked at."""
from __future__ import annotations

import shutil
from datetime import date

import pypdfium2 as pdfium
import pytest

from drafting.config import REPO_ROOT
from drafting.export import PdfUnavailable, pdf_note, to_docx, to_pdf
from drafting.export.template import MARGINS_MM

MM = 72 / 25.4
SENTENCE = "今年以来工会组织坚持以职工为中心扎实推进各项工作取得积极成效"  # CJK only: every line full width
TEXT = "\n".join(["东湖街道总工会二〇二四年上半年工作总结", SENTENCE * 12, "一、加强组织建设夯实工会工作基础",
                  SENTENCE * 40, "二、下一步工作打算", SENTENCE * 3 + "。"])


def _lines(page: pdfium.PdfPage) -> list[tuple[float, float, float, float, str]]:
    """The page's text lines, top first: (top, bottom, left, right) in points from the page's
    top-left corner, and the characters."""
    _, height = page.get_size()
    text = page.get_textpage()
    chars = []
    for i in range(text.count_chars()):
        ch = text.get_text_range(i, 1)
        if ch.strip():
            left, bottom, right, top = text.get_charbox(i)
            chars.append(((top + bottom) / 2, height - top, height - bottom, left, right, ch))
    chars.sort(key=lambda c: -c[0])
    lines: list[list[tuple[float, float, float, float, float, str]]] = []
    for char in chars:
        if lines and abs(lines[-1][0][0] - char[0]) < 8:
            lines[-1].append(char)
        else:
            lines.append([char])
    out = []
    for line in lines:
        line.sort(key=lambda c: c[3])
        out.append((min(c[1] for c in line), max(c[2] for c in line), min(c[3] for c in line),
                    max(c[4] for c in line), "".join(c[5] for c in line)))
    return out


@pytest.fixture(scope="module")
def pdf() -> pdfium.PdfDocument:
    data = to_pdf(to_docx(TEXT, org="东湖街道总工会", signed=date(2024, 7, 5)))
    assert data.startswith(b"%PDF")
    document = pdfium.PdfDocument(data)
    artifacts = REPO_ROOT / "tests" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    for i in range(min(2, len(document))):
        document[i].render(scale=1.5).to_pil().save(artifacts / f"export_pdf_page{i + 1}.png")
    return document


def test_a4_pages_with_the_type_area_of_the_standard(pdf: pdfium.PdfDocument) -> None:
    assert len(pdf) >= 3
    for page in pdf:
        width, height = page.get_size()
        assert abs(width - 210 * MM) < 1 and abs(height - 297 * MM) < 1
    lines = _lines(pdf[1])[:-1]  # a full page of body text, without its page number
    left = min(line[2] for line in lines)
    right = max(line[3] for line in lines)
    assert abs(left - MARGINS_MM["left"] * MM) < 1.5 * MM
    assert right <= (210 - MARGINS_MM["right"]) * MM + 0.5 * MM and right > (210 - MARGINS_MM["right"] - 2) * MM
    top = lines[0][0]
    assert MARGINS_MM["top"] * MM <= top <= (MARGINS_MM["top"] + 10) * MM
    assert lines[-1][1] <= (297 - MARGINS_MM["bottom"]) * MM + 1 * MM


def test_28_characters_a_line_and_22_lines_a_page(pdf: pdfium.PdfDocument) -> None:
    lines = _lines(pdf[1])[:-1]
    assert len(lines) == 22
    full = [text for _, _, left, _, text in lines if abs(left - MARGINS_MM["left"] * MM) < 1.5 * MM]
    assert len(full) >= 15 and {len(text) for text in full[:-1]} == {28}


def test_page_numbers_outside_one_character_in(pdf: pdfium.PdfDocument) -> None:
    odd, even = _lines(pdf[0])[-1], _lines(pdf[1])[-1]
    assert odd[4] == "—1—" and even[4] == "—2—"
    assert odd[3] > (210 - MARGINS_MM["right"] - 8) * MM  # right, one 四号 character in
    assert even[2] < (MARGINS_MM["left"] + 8) * MM  # left
    assert odd[0] > (297 - MARGINS_MM["bottom"]) * MM  # under the type area


def test_the_signature_closes_the_last_page(pdf: pdfium.PdfDocument) -> None:
    texts = [line[4] for line in _lines(pdf[len(pdf) - 1])]
    assert texts[-3:-1] == ["东湖街道总工会", "2024年7月5日"]


def test_the_note_names_the_fonts_used_and_a_missing_engine_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "仿宋_GB2312→" in pdf_note() or "字体与 Word 文档相同" in pdf_note()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(PdfUnavailable, match="LibreOffice"):
        to_pdf(b"not used")
