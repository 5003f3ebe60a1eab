"""Bullets proposed from material (a Word or PDF report, an Excel or CSV table): only sentences
and rows with a figure or an activity, the figures' text exactly as in the material, and the
chosen ones merged into the bullets without touching what was typed."""
from __future__ import annotations

import io

import openpyxl
import pytest

from drafting.flow.material import merge_into, propose
from drafting.flow.request import parse_facts_text
from drafting.retrieval.userdocs import UserFileError
from tests.test_index import _docx_bytes

REPORT = [("Title", "东湖街道总工会3月份工作简报"),
          (None, "一、3月8日组织女职工开展插花活动，参加女职工60人。本月天气晴好。"),
          (None, "（二）走访慰问困难职工20户，发放慰问金1.2万元；工会干部认真学习文件精神"),
          (None, "大家普遍反映很好。")]
REPORT_BULLETS = ["3月8日组织女职工开展插花活动，参加女职工60人", "走访慰问困难职工20户，发放慰问金1.2万元"]


def report_docx() -> bytes:
    return _docx_bytes(REPORT)


def table_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["项目", "数量", "单位"], ["新建工会", 12, "家"], ["发展会员", 1200, "名"], ["慰问金", 36.5, "万元"],
                ["备注", None, None]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


TABLE_BULLETS = ["新建工会12家", "发展会员1200名", "慰问金36.5万元"]


def test_a_report_gives_its_sentences_with_figures_or_work() -> None:
    found = propose("三月简报.docx", report_docx())
    assert [p.text for p in found] == REPORT_BULLETS  # the title, the weather and the praise are left out
    assert [p.source for p in found] == ["第 2 段", "第 3 段"]


def test_a_decimal_at_the_start_is_a_figure_not_an_enumerator() -> None:
    found = propose("简报.txt", "3.5万元用于职工疗休养，受益职工200人。①组织职工体检300人次。".encode())
    assert [p.text for p in found] == ["3.5万元用于职工疗休养，受益职工200人", "组织职工体检300人次"]


def test_a_pdf_report_gives_the_same() -> None:
    from drafting.export.pdf import to_pdf

    assert [p.text for p in propose("三月简报.pdf", to_pdf(report_docx()))] == REPORT_BULLETS


def test_a_table_gives_one_bullet_per_row_with_figures() -> None:
    found = propose("统计表.xlsx", table_xlsx())
    assert [p.text for p in found] == TABLE_BULLETS and found[0].source == "第 2 行"
    csv = "单位,慰问户数\n东湖街道,120\n西湖街道,80\n".encode("gbk")  # as Excel saves it on a Chinese PC
    assert [p.text for p in propose("户数.csv", csv)] == ["东湖街道，慰问户数120", "西湖街道，慰问户数80"]


@pytest.mark.parametrize(("name", "data", "message"), [
    ("表.xlsx", b"not a zip", "不是有效的 Excel"),
    ("图.png", b"\x89PNG", "不支持的文件类型"),
    ("空.txt", "今天开会。大家都很好。".encode(), "没有找到带数字或工作事项的句子"),
])
def test_unreadable_material_is_refused_in_chinese(name: str, data: bytes, message: str) -> None:
    with pytest.raises(UserFileError, match=message):
        propose(name, data)


def test_merge_keeps_what_was_typed_and_places_each_bullet() -> None:
    typed = "# 组织建设\n新建工会8家\n\n# 帮扶送温暖\n慰问40户"
    merged = merge_into(typed, [("新建工会12家", "组织建设"), ("插花活动60人", "文体活动"), ("走访20户", "")])
    sections = {s.title: s.facts for s in parse_facts_text(merged)}
    assert sections == {None: ["走访20户"], "组织建设": ["新建工会8家", "新建工会12家"], "帮扶送温暖": ["慰问40户"],
                        "文体活动": ["插花活动60人"]}
    assert all(line in merged.split("\n") for line in typed.split("\n") if line)  # nothing typed is lost
    assert merge_into("", [("新建工会12家", "")]) == "新建工会12家"
    bracketed = merge_into("【帮扶送温暖】慰问40户\n【组织建设】\n新建工会8家", [("走访20户", "帮扶送温暖")])
    assert bracketed == "【帮扶送温暖】慰问40户\n走访20户\n【组织建设】\n新建工会8家"  # under it, not a new # heading
