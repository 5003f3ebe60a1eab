"""The .docx in 公文 layout holds exactly the checked text; Markdown keeps the words; HTML views escape."""
from __future__ import annotations

import io
from datetime import date
from html import escape

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from drafting.export import CLAIM_COLOUR, MARK_COLOUR, blocks, to_docx, to_markdown
from drafting.export.template import SHIPPED
from drafting.export.template import build as build_template
from drafting.flow.check import check
from drafting.page.highlight import diff_html, draft_html, findings_html, md_escape

TEXT = "\n".join([
    "东湖街道总工会2024年上半年工作总结",
    "2024年上半年，东湖街道总工会在上级工会和街道党工委的领导下，扎实推进各项工作。",
    "一、加强组织建设，夯实工会工作基础",
    "今年以来，新建非公企业工会8家，新发展会员1200名，完成3家社区工会换届。",
    "（一）强化帮扶。春节走访慰问困难职工120户，发放慰问金36万元。",
    "二、下一步工作打算",
    "下半年力争再新建工会5家。",
])
FACTS = ["新建非公企业工会8家，新发展会员1200名", "完成3家社区工会换届",
         "春节走访慰问困难职工120户，发放慰问金36万元", "下半年力争再新建工会5家"]
FIELDS = ["东湖街道总工会", "上半年", "2024年"]


def _east_asian(run) -> str:
    return run._element.rPr.rFonts.get(qn("w:eastAsia"))


def _open(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def _texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def test_docx_holds_exactly_the_text_then_the_signature() -> None:
    document = _open(to_docx(TEXT, org="东湖街道总工会", signed=date(2024, 7, 5)))
    lines = TEXT.split("\n")
    # a blank line under the title; the 落款 after a blank line: the body's name, then the date
    assert _texts(document) == [lines[0], "", *lines[1:], "", "东湖街道总工会", "2024年7月5日"]
    assert [p.style.name for p in document.paragraphs[-2:]] == ["公文落款"] * 2
    assert all(p.alignment is None and p.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.RIGHT
               for p in document.paragraphs[-2:])
    assert _texts(_open(to_docx(TEXT)))[-1] == lines[-1]  # no 落款 asked for, none written
    properties = document.core_properties
    assert properties.title == lines[0] and properties.author == "东湖街道总工会"  # not "python-docx"


def test_docx_layout_follows_gbt_9704() -> None:
    document = _open(to_docx(TEXT))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    title, _, opening, h1, body, h2, _, _ = document.paragraphs
    assert [p.style.name for p in (title, opening, h1, body, h2)] == ["Title", "Normal", "Heading 1", "Normal",
                                                                      "Heading 2"]  # the navigation pane lists 一、 and （一）
    assert title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert _east_asian(title.runs[0]) == "方正小标宋简体" and title.runs[0].font.size == Pt(22)
    assert title.style.paragraph_format.first_line_indent == 0
    for paragraph in (opening, body):
        assert {_east_asian(r) for r in paragraph.runs} == {"仿宋_GB2312"}
        assert paragraph.runs[0].font.size == Pt(16)
    assert _east_asian(h1.runs[0]) == "黑体" and h1.runs[0].font.size == Pt(16)
    assert not h1.style.font.bold and h1.style.font.color.rgb == RGBColor(0, 0, 0)  # the 公文 look, not Word's blue
    # A run-in level-2 heading: the heading sentence in 楷体, the rest of the paragraph in 仿宋.
    assert [(r.text, _east_asian(r)) for r in h2.runs] == [
        ("（一）强化帮扶。", "楷体_GB2312"), ("春节走访慰问困难职工120户，发放慰问金36万元。", "仿宋_GB2312")]
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        fmt = document.styles[name].paragraph_format
        assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY and Pt(28) <= fmt.line_spacing <= Pt(29)
        rfonts = document.styles[name].element.rPr.rFonts
        assert rfonts.get(qn("w:eastAsia")) and rfonts.get(qn("w:ascii")) == "Times New Roman"
    for name in ("Normal", "Heading 1", "Heading 2"):
        assert document.styles[name].paragraph_format.first_line_indent == Pt(32)  # two 三号 characters
        assert document.styles[name].element.pPr.find(qn("w:ind")).get(qn("w:firstLineChars")) == "200"
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines" and grid.get(qn("w:linePitch")) == "578"  # 22 lines of 28.9 pt
    spacing = int(document.styles["Normal"].element.rPr.find(qn("w:spacing")).get(qn("w:val")))
    pitch = 16 + spacing / 20  # points per character
    width = (210 - 28 - 26) / 25.4 * 72
    assert int(width / pitch) == 28 and int(width / (pitch + 0.05)) == 27  # the least squeeze that fits 28
    assert document.settings.odd_and_even_pages_header_footer
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    for footer in (odd, even):
        assert footer.text.startswith("— ") and footer.text.endswith(" —") and "PAGE" in footer._p.xml
    assert odd.alignment == WD_ALIGN_PARAGRAPH.RIGHT and odd.paragraph_format.right_indent == Pt(14)
    assert even.alignment == WD_ALIGN_PARAGRAPH.LEFT and even.paragraph_format.left_indent == Pt(14)


def test_docx_marks_unsupported_figures_and_says_why_in_a_comment() -> None:
    text = TEXT.replace("8家", "9家") + "\n另外举办职工培训班15期。"
    report = check(text, FACTS, fields=FIELDS).to_dict()
    assert not report["ok"] and report["claims"]
    document = _open(to_docx(text, report))
    assert "\n".join(t for t in _texts(document) if t) == text
    marked = [(r.text, r.font.color.rgb) for p in document.paragraphs for r in p.runs if r.font.color.rgb is not None]
    assert ("9家", MARK_COLOUR) in marked and any(rgb == CLAIM_COLOUR for _, rgb in marked)
    comments = {c.text for c in document.comments}
    reason = report["unsupported"][0]["reason"]
    assert f"数字“9家”：{reason}" in comments
    assert any(c.startswith("表述“") for c in comments) and {c.author for c in document.comments} == {"要点核对"}


def test_an_offices_own_template_is_filled(tmp_path) -> None:
    letterhead = build_template()
    letterhead.add_paragraph("东湖街道总工会文件", style="Title")  # the office's 红头 line
    path = tmp_path / "office.docx"
    letterhead.save(str(path))
    document = _open(to_docx(TEXT, template=path))
    assert _texts(document)[:2] == ["东湖街道总工会文件", TEXT.split("\n")[0]]  # the letterhead stays on top


def test_the_shipped_template_is_what_the_builder_makes() -> None:
    shipped, built = docx.Document(str(SHIPPED)), build_template()
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "公文落款"):
        assert shipped.styles[name].element.xml == built.styles[name].element.xml, name
    assert shipped.sections[0]._sectPr.xml == built.sections[0]._sectPr.xml
    assert not shipped.paragraphs


def test_blank_lines_are_not_paragraphs_and_offsets_are_kept() -> None:
    text = "标题\n\n第一段\n  \n一、小节"
    assert [(b.kind, b.text, b.start) for b in blocks(text)] == [
        ("title", "标题", 0), ("body", "第一段", 4), ("h1", "一、小节", 11)]
    assert _texts(_open(to_docx(text))) == ["标题", "", "第一段", "一、小节"]


def test_markdown_carries_the_findings() -> None:
    text = TEXT.replace("8家", "9家")
    report = check(text, FACTS, fields=FIELDS).to_dict()
    md = to_markdown(text, report)
    assert "⚠**9家**⚠[^1]" in md
    assert f"[^1]: 数字“9家”：{report['unsupported'][0]['reason']}" in md and "核对发现" in md
    assert "⚠" not in to_markdown(TEXT, check(TEXT, FACTS, fields=FIELDS).to_dict())


def test_markdown_keeps_every_word() -> None:
    md = to_markdown(TEXT)
    assert md.startswith("# 东湖街道总工会2024年上半年工作总结\n\n")
    assert "## 一、加强组织建设，夯实工会工作基础" in md
    assert "**（一）强化帮扶。**春节走访慰问困难职工120户" in md
    plain = md.replace("#", "").replace("*", "").replace("\n\n", "\n").replace("\n ", "\n").strip()
    assert plain.replace(" ", "") == TEXT.replace(" ", "")


def test_highlight_marks_unsupported_spans_with_reason_and_escapes() -> None:
    text = TEXT.replace("8家", "9家") + "\n<script>alert(1)</script>"
    report = check(text, FACTS, fields=FIELDS).to_dict()
    html = draft_html(text, report)
    reason = report["unsupported"][0]["reason"]
    assert f'<mark class="bad" title="{escape(reason)}">9家<sup>1</sup></mark>' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    listing = findings_html(report)
    assert "“9家”" in listing and reason in listing


def test_highlight_ignores_spans_outside_the_text() -> None:
    report = {"unsupported": [{"text": "x", "start": 500, "end": 502, "reason": "r"}], "warnings": []}
    assert "<mark" not in draft_html("标题\n正文", report)


def test_diff_shows_character_changes_and_folds_unchanged_paragraphs() -> None:
    old = "\n".join(["标题", "甲", "乙", "丙", "丁", "新建工会8家。"])
    new = old.replace("8家", "9家")
    html = diff_html(old, new)
    assert "<del>8</del><ins>9</ins>" in html
    assert "甲" not in html and "……" in html  # far from the change: folded
    assert "完全相同" in diff_html(old, old)


def test_md_escape_shows_markdown_literally() -> None:
    assert md_escape("1. 发放*36*万元 [注]") == r"1\. 发放\*36\*万元 \[注\]"


def test_markdown_footnotes_leave_the_words_alone() -> None:
    text = TEXT.replace("8家", "9家").replace("夯实工会工作基础", "夯实基础[^n注]")
    report = check(text, FACTS, fields=FIELDS).to_dict()
    md = to_markdown(text, report)
    assert "夯实基础[^n注]" in md and "⚠**9家**⚠[^1]" in md  # the draft's own characters are not renumbered
