"""The draft as a .docx: the template (`template.py`, or an office's own) filled with the text.

The draft text is the single source: each non-blank line becomes one paragraph with exactly the
same characters — the title in Title, 一、 headings in Heading 1, （一） headings in Heading 2
(run in: the heading sentence in 楷体, the rest in 仿宋), the rest in Normal — then a blank line
under the title and the 落款 (the body's name and the date) at the end. Whatever the template's
body already holds (a letterhead) stays above. Figures the checker could not trace to the bullets
stay red on yellow, work no bullet grounds violet with a wavy underline, each with a Word comment
that says why, so that a draft never carries them silently.
"""
from __future__ import annotations

import io
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_COLOR_INDEX, WD_UNDERLINE
from docx.shared import Pt, RGBColor
from docx.text.run import Run

from drafting.export.layout import Block, Mark, blocks, marks, signature_date
from drafting.export.template import (
    BODY_FONT,
    BODY_SIZE,
    FONTS,
    H1_FONT,
    H2_FONT,
    SHIPPED,
    SIGNATURE_STYLE,
    TITLE_FONT,
    TITLE_SIZE,
    set_fonts,
)

MARK_COLOUR = RGBColor(0xC0, 0x00, 0x00)
CLAIM_COLOUR = RGBColor(0x59, 0x25, 0xDC)  # a claim no bullet grounds: violet, wavy underline
COMMENT_AUTHOR = "要点核对"
STYLES = {"title": "Title", "h1": "Heading 1", "h2": "Heading 2", "body": "Normal"}
FONT_NOTE = ("本文件按公文格式排版，用到" + "、".join(FONTS) + "字体；对方电脑缺少这些字体时，Word 会用相近字体代替，"
             "行数和换页可能与本机不同。需要版式完全一致时，请发送 PDF。")


def _pieces(block: Block, spans: list[Mark]) -> list[tuple[str, str, Mark | None]]:
    """The block cut into (text, East-Asian font, mark) runs at the run-in heading's end and at
    the edges of marked spans (an unsupported figure wins over a claim around it)."""
    fonts = {"title": TITLE_FONT, "h1": H1_FONT, "h2": H2_FONT, "body": BODY_FONT}
    run_in = len(block.lead) if block.kind == "h2" and block.lead != block.text else 0
    local = [m for m in spans if block.start <= m.start < m.end <= block.start + len(block.text)]
    cuts = sorted({0, len(block.text), run_in, *(x - block.start for m in local for x in (m.start, m.end))})
    pieces = []
    for a, b in pairwise(cuts):
        font = (H2_FONT if b <= run_in else BODY_FONT) if run_in else fonts[block.kind]
        covering = [m for m in local if m.start - block.start <= a and b <= m.end - block.start]
        covering.sort(key=lambda m: m.kind != "bad")
        pieces.append((block.text[a:b], font, covering[0] if covering else None))
    return pieces


def _width(text: str) -> float:
    """Width in 三号 characters: ASCII letters and figures are half as wide."""
    return sum(0.5 if ch.isascii() else 1.0 for ch in text)


def to_docx(text: str, check: dict[str, Any] | None = None, *, org: str | None = None,
            signed: date | None = None, template: Path | None = None) -> bytes:
    """The draft as .docx bytes. `org` signs it and is the file's author; `signed` is the 成文日期
    of the 落款 (None: no date line); `template` replaces the shipped layout."""
    document = Document(str(template or SHIPPED))
    title = next((b.text.strip() for b in blocks(text) if b.kind == "title"), "")
    properties = document.core_properties
    properties.title, properties.author, properties.last_modified_by = title, org or "", org or ""
    properties.created = properties.modified = datetime.now()
    properties.comments = ""
    spans = marks(check)
    for block in blocks(text):
        paragraph = document.add_paragraph(style=STYLES[block.kind])
        size = TITLE_SIZE if block.kind == "title" else BODY_SIZE
        runs: dict[Mark, list[Run]] = {}
        for piece, font, mark in _pieces(block, spans):
            run = paragraph.add_run(piece)
            run.font.size = size
            set_fonts(run, font)
            if mark is None:
                continue
            runs.setdefault(mark, []).append(run)
            if mark.kind == "bad":
                run.font.color.rgb = MARK_COLOUR
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            else:
                run.font.color.rgb = CLAIM_COLOUR
                run.font.underline = WD_UNDERLINE.WAVY
        for mark, marked in runs.items():  # a mark lies inside one paragraph: one comment each
            what = "数字" if mark.kind == "bad" else "表述"
            document.add_comment(marked, text=f"{what}“{mark.text}”：{mark.reason}", author=COMMENT_AUTHOR,
                                 initials="核")
        if block.kind == "title":
            document.add_paragraph(style="Normal")  # the blank line under the title
    if org or signed:
        # The 落款 never stands alone on a page: the last lines of the text go along with it.
        if document.paragraphs:
            document.paragraphs[-1].paragraph_format.keep_with_next = True
        document.add_paragraph(style="Normal").paragraph_format.keep_with_next = True  # a blank line before it
        day = signature_date(signed) if signed else ""
        # GB/T 9704-2012 7.3.5.1: the date four characters in from the right, the body's name
        # centred over it; a name longer than the date keeps two characters and the date is
        # centred under it instead.
        org_w, day_w = _width(org or ""), _width(day)
        org_in, day_in = (4 + (day_w - org_w) / 2, 4.0) if org_w <= day_w or not day else (2.0, 2 + (org_w - day_w) / 2)
        for line, chars in ((org, org_in), (day, day_in)):
            if line:
                paragraph = document.add_paragraph(line, style=SIGNATURE_STYLE)
                paragraph.paragraph_format.right_indent = Pt(BODY_SIZE.pt * chars)
                paragraph.paragraph_format.keep_with_next = line is org
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
