"""The shipped .docx template of a 总结 sent as a document (GB/T 9704-2012), and how it is made.

The template holds the whole layout, so that an office can replace it with its own (letterhead,
红头, other fonts) through `DRAFTING_DOCX_TEMPLATE` and the export only fills it:

- A4; margins 37 mm top, 35 bottom, 28 left, 26 right: a 156 × 225 mm type area;
- 22 lines of 28 characters: a line grid of 28.9 pt, and 三号 characters set 0.25 pt closer
  (28 × 16 pt is 158 mm, 2 mm more than the line; Word would compress them on a character
  grid, LibreOffice — the PDF — gives each a second grid cell instead, so no character grid);
- styles: Normal (仿宋_GB2312 三号, justified, two-character indent, exact 28.9 pt lines),
  Title (方正小标宋简体 二号, centred), Heading 1 (黑体 三号) and Heading 2 (楷体_GB2312 三号) —
  Word's heading styles, so the navigation pane lists the sections, with the 公文 look —, and
  公文落款 (right-aligned, four characters in from the right);
- page numbers “— n —” in 宋体 四号 below the type area: odd pages on the right and even pages
  on the left, one character in.

Every font is named in both the Latin and the East-Asian slot (Times New Roman for figures).
`python -m drafting.export.template` writes the shipped file again after a change here.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import BaseStyle, ParagraphStyle
from docx.text.paragraph import Paragraph
from docx.text.run import Run

SHIPPED = Path(__file__).with_name("data") / "gongwen-template.docx"

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
TITLE_SIZE = Pt(22)  # 二号
BODY_SIZE = Pt(16)  # 三号
PAGE_NUMBER_SIZE = Pt(14)  # 四号
LINE_SPACING = Pt(28.9)  # 22 lines on the 225 mm type area
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
CHARS_PER_LINE, LINES_PER_PAGE = 28, 22
SIGNATURE_STYLE = "公文落款"
FONTS = (TITLE_FONT, BODY_FONT, H1_FONT, H2_FONT, PAGE_NUMBER_FONT)


def set_fonts(owner: Run | BaseStyle, east_asian: str) -> None:
    """Name `east_asian` for Chinese and Times New Roman for Latin letters and figures, on a run
    or a style."""
    element = owner._element if isinstance(owner, Run) else owner.element
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def _paragraph_style(style: ParagraphStyle, font: str, size: Pt, *, indent: bool, centred: bool = False) -> None:
    style.font.name = LATIN_FONT
    style.font.size = size
    style.font.bold = False
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    set_fonts(style, font)
    fmt = style.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_SPACING
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.left_indent = Pt(0)
    fmt.keep_with_next = False
    fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.JUSTIFY
    ppr = style.element.get_or_add_pPr()
    for old in ppr.findall(qn("w:pBdr")):  # the stock Title has a rule under it
        ppr.remove(old)
    if size == BODY_SIZE:
        rpr = style.element.get_or_add_rPr()
        spacing = rpr.find(qn("w:spacing"))  # an element without children is falsy: no `or` here
        if spacing is None:
            spacing = OxmlElement("w:spacing")
            rpr.append(spacing)
        spacing.set(qn("w:val"), str(character_spacing_twips()))
    if indent:
        fmt.first_line_indent = BODY_SIZE * 2
        ind = ppr.find(qn("w:ind"))
        ind.set(qn("w:firstLineChars"), "200")  # Word measures the indent in characters too
    else:
        fmt.first_line_indent = Pt(0)


def _grid(section_element: object) -> None:
    """22 lines a page: the line pitch in twentieths of a point."""
    sect = section_element
    for old in sect.findall(qn("w:docGrid")):  # type: ignore[attr-defined]
        sect.remove(old)  # type: ignore[attr-defined]
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_SPACING.pt * 20)))
    sect.append(grid)  # type: ignore[attr-defined]


def character_spacing_twips() -> int:
    """How much closer (negative, in twentieths of a point) 三号 characters are set so that 28
    fit on the 156 mm line: the largest step that is enough."""
    width_pt = (210 - MARGINS_MM["left"] - MARGINS_MM["right"]) / 25.4 * 72
    return math.floor((width_pt / CHARS_PER_LINE - BODY_SIZE.pt) * 20)


def _page_number(paragraph: Paragraph, side: str) -> None:
    """“— PAGE —” in 宋体 四号, on `side` ("right" or "left"), one character in."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if side == "right" else WD_ALIGN_PARAGRAPH.LEFT
    fmt = paragraph.paragraph_format
    fmt.first_line_indent = Pt(0)
    if side == "right":
        fmt.right_indent = PAGE_NUMBER_SIZE
    else:
        fmt.left_indent = PAGE_NUMBER_SIZE

    def run(text: str = "") -> Run:
        r = paragraph.add_run(text)
        r.font.size = PAGE_NUMBER_SIZE
        r.font.name = LATIN_FONT
        set_fonts(r, PAGE_NUMBER_FONT)
        return r

    run("— ")
    field = run()
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
    run(" —")


def build() -> DocumentObject:
    """The template, made from the constants above."""
    document = Document()
    for paragraph in list(document.paragraphs):  # the stock document's empty first paragraph
        paragraph._element.getparent().remove(paragraph._element)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.footer_distance = Mm(MARGINS_MM["bottom"] - 7) - PAGE_NUMBER_SIZE  # 7 mm under the type area
    _grid(section._sectPr)
    styles = document.styles
    _paragraph_style(styles["Normal"], BODY_FONT, BODY_SIZE, indent=True)
    _paragraph_style(styles["Title"], TITLE_FONT, TITLE_SIZE, indent=False, centred=True)
    _paragraph_style(styles["Heading 1"], H1_FONT, BODY_SIZE, indent=True)
    _paragraph_style(styles["Heading 2"], H2_FONT, BODY_SIZE, indent=True)
    signature = styles.add_style(SIGNATURE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    signature.base_style = styles["Normal"]
    _paragraph_style(signature, BODY_FONT, BODY_SIZE, indent=False)
    signature.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    signature.paragraph_format.right_indent = BODY_SIZE * 4
    document.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], "right")
    _page_number(section.even_page_footer.paragraphs[0], "left")
    return document


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else SHIPPED
    out.parent.mkdir(parents=True, exist_ok=True)
    build().save(str(out))
    print(out)
