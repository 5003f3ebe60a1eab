"""Export a checked draft as a .docx in 公文 layout (GB/T 9704 conventions) or as Markdown.

The draft text is the single source: each non-blank line becomes one paragraph with exactly
the same characters, so the file holds the text the checker saw. Layout follows GB/T 9704:
A4, margins 37/35/28/26 mm, title 小标宋 二号 centred, body 仿宋_GB2312 三号 with a fixed
line spacing and a two-character first-line indent, 一、 headings in 黑体, （一） headings in
楷体_GB2312 (run in: the heading sentence in 楷体, the rest of the paragraph in 仿宋), a
“— 1 —” page number in the footer. Figures the checker could not trace to the bullets stay
visibly marked in the file (red on yellow), and so do claims no bullet grounds (violet, wavy
underline), so that a draft never carries them silently.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING, WD_UNDERLINE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
TITLE_SIZE = Pt(22)  # 二号
BODY_SIZE = Pt(16)  # 三号
PAGE_NUMBER_SIZE = Pt(14)  # 四号
MARK_COLOUR = RGBColor(0xC0, 0x00, 0x00)
CLAIM_COLOUR = RGBColor(0x59, 0x25, 0xDC)  # a claim no bullet grounds: violet, wavy underline
LINE_SPACING = Pt(28.9)  # 22 lines on the 225 mm type area
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}

_H1 = re.compile(r"^\s*[一二三四五六七八九十]{1,3}、")
_H2 = re.compile(r"^\s*[（(][一二三四五六七八九十]{1,3}[)）]")
# A run-in level-2 heading ends at the first full stop, if that comes early in the paragraph.
_H2_RUN_IN = re.compile(r"^(\s*[（(][一二三四五六七八九十]{1,3}[)）][^。！？\n]{0,40}[。！？]?)")


@dataclass(frozen=True)
class Block:
    """One paragraph of the draft: kind is title, h1, h2 or body; `start` its offset in the
    draft; `lead` the run-in heading part of an h2 paragraph."""

    kind: str
    text: str
    start: int
    lead: str = ""


def blocks(text: str) -> list[Block]:
    """The draft's paragraphs in order, classified. The first non-blank line is the title."""
    out: list[Block] = []
    start = 0
    for line in text.split("\n"):
        if not line.strip():
            pass
        elif not out:
            out.append(Block("title", line, start))
        elif _H1.match(line):
            out.append(Block("h1", line, start))
        elif _H2.match(line):
            lead = _H2_RUN_IN.match(line)
            out.append(Block("h2", line, start, lead.group(1) if lead else line))
        else:
            out.append(Block("body", line, start))
        start += len(line) + 1
    return out


def to_markdown(text: str) -> str:
    """Title as `#`, 一、 headings as `##`, the rest as paragraphs (the words unchanged)."""
    parts = []
    for block in blocks(text):
        if block.kind == "title":
            parts.append(f"# {block.text.strip()}")
        elif block.kind == "h1":
            parts.append(f"## {block.text.strip()}")
        elif block.kind == "h2" and block.lead != block.text:
            parts.append(f"**{block.lead.strip()}**{block.text[len(block.lead):]}")
        elif block.kind == "h2":
            parts.append(f"### {block.text.strip()}")
        else:
            parts.append(block.text)
    return "\n\n".join(parts) + "\n"


def _set_font(run: Run, east_asian: str, size: Pt) -> None:
    run.font.name = LATIN_FONT
    run.font.size = size
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def _format(paragraph: Paragraph, *, centred: bool = False) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_SPACING
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if centred:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        return
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.first_line_indent = BODY_SIZE * 2
    # Word measures the indent in characters too; keep both in step (200 = two characters).
    ind = paragraph._p.get_or_add_pPr().find(qn("w:ind"))
    ind.set(qn("w:firstLineChars"), "200")


def _page_number_footer(section) -> None:
    """“— PAGE —” centred in 宋体 四号."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(paragraph.add_run("— "), PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
    field = paragraph.add_run()
    _set_font(field, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
    for tag, attrs in (("w:fldChar", {"w:fldCharType": "begin"}), ("w:instrText", {}),
                       ("w:fldChar", {"w:fldCharType": "separate"}), ("w:t", {}),
                       ("w:fldChar", {"w:fldCharType": "end"})):
        element = OxmlElement(tag)
        for key, value in attrs.items():
            element.set(qn(key), value)
        if tag == "w:instrText":
            element.set(qn("xml:space"), "preserve")
            element.text = " PAGE "
        elif tag == "w:t":
            element.text = "1"
        field._element.append(element)
    _set_font(paragraph.add_run(" —"), PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)


def _pieces(block: Block, spans: list[tuple[int, int, str]]) -> list[tuple[str, str, str]]:
    """The block cut into (text, East-Asian font, mark) runs at the run-in heading's end and at
    the edges of marked spans; mark is "" or the kind of the span ("bad", "claim")."""
    fonts = {"title": TITLE_FONT, "h1": H1_FONT, "h2": H2_FONT, "body": BODY_FONT}
    run_in = len(block.lead) if block.kind == "h2" and block.lead != block.text else 0
    local = [(s - block.start, e - block.start, kind) for s, e, kind in spans
             if block.start <= s < e <= block.start + len(block.text)]
    cuts = sorted({0, len(block.text), run_in, *(x for s, e, _ in local for x in (s, e))})
    pieces = []
    for a, b in pairwise(cuts):
        font = (H2_FONT if b <= run_in else BODY_FONT) if run_in else fonts[block.kind]
        kinds = [kind for s, e, kind in local if s <= a and b <= e]
        pieces.append((block.text[a:b], font, "bad" if "bad" in kinds else (kinds[0] if kinds else "")))
    return pieces


def to_docx(text: str, check: dict[str, Any] | None = None) -> bytes:
    """The draft as .docx bytes in 公文 layout; `check`'s unsupported figures (red on yellow)
    and claims (violet, wavy underline) are marked."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    normal = document.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = BODY_SIZE
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    _page_number_footer(section)

    check = check or {}
    spans = [(int(f["start"]), int(f["end"]), "bad") for f in check.get("unsupported", [])]
    spans += [(int(c["start"]), int(c["end"]), "claim") for c in check.get("claims", [])]
    for block in blocks(text):
        paragraph = document.add_paragraph()
        _format(paragraph, centred=block.kind == "title")
        size = TITLE_SIZE if block.kind == "title" else BODY_SIZE
        for piece, font, mark in _pieces(block, spans):
            run = paragraph.add_run(piece)
            _set_font(run, font, size)
            if mark == "bad":
                run.font.color.rgb = MARK_COLOUR
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            elif mark == "claim":
                run.font.color.rgb = CLAIM_COLOUR
                run.font.underline = WD_UNDERLINE.WAVY
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
