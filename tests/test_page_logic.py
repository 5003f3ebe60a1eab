"""The page's logic without Streamlit: outline edits, edited-text sections, job progress events."""
from __future__ import annotations

import pytest

from drafting.flow.assemble import assemble, parse_layout
from drafting.flow.events import Delta, PartDone, SectionChecked, SectionDone, SectionRepaired, SectionStarted
from drafting.flow.pipeline import Cancelled
from drafting.flow.plan import Outline, OutlineSection
from drafting.flow.request import RequestError
from drafting.page import jobs
from drafting.page import outline as oe


def _state() -> oe.State:
    return oe.editable(Outline("某工会2024年上半年工作总结", [
        OutlineSection("组织建设", ["新建工会8家", "发展会员1200名"]),
        OutlineSection("帮扶", ["慰问困难职工120户"]),
    ]))


def test_edits_return_new_outlines_and_leave_the_old_one_alone() -> None:
    state = _state()
    first, second = (s["uid"] for s in state["sections"])
    moved = oe.move_section(state, first, -1)  # already first: unchanged
    assert [s["uid"] for s in moved["sections"]] == [first, second]
    moved = oe.move_fact(state, first, 1, second)
    assert moved["sections"][1]["facts"] == ["慰问困难职工120户", "发展会员1200名"]
    assert state["sections"][1]["facts"] == ["慰问困难职工120户"]  # the original is untouched
    assert oe.move_fact(state, first, 0, first) == state


def test_empty_sections_are_skipped_and_problems_named() -> None:
    state = oe.add_section(_state(), "新的小节")
    assert [s.heading for s in oe.to_outline(state).sections] == ["组织建设", "帮扶"]
    renamed = oe.rename_section(state, state["sections"][0]["uid"], "  ")
    assert oe.problems(renamed) == ["有小节没有标题，请补上。"]
    with pytest.raises(RequestError, match="请填写总结的标题"):
        oe.intake_for_outline("某工会", "上半年", "2024", oe.set_title(state, ""))
    emptied = oe.drop_section(oe.drop_section(state, state["sections"][0]["uid"]), state["sections"][1]["uid"])
    assert oe.problems(emptied) == ["提纲中没有任何要点，请至少保留一个有要点的小节。"]


def test_intake_for_outline_holds_exactly_the_outline_bullets() -> None:
    state = _state()
    state = oe.drop_section(state, state["sections"][1]["uid"])
    request = oe.intake_for_outline("某工会", "上半年", "2024", state, {"strategy": "sectioned"}).request
    assert request.facts == ["新建工会8家", "发展会员1200名"] and request.options == {"strategy": "sectioned"}


def test_layout_finds_each_part_of_an_edited_draft() -> None:
    text = "标题\n开头\n\n一、组织建设\n甲段\n乙段\n\n二、帮扶解困\n丙段\n结尾"
    layout = parse_layout(text, 2)
    assert layout is not None
    assert (layout.title_text, layout.opening_text, layout.closing_text) == ("标题", "开头", "结尾")
    assert [layout.heading_text(i) for i in range(2)] == ["组织建设", "帮扶解困"]  # renamed headings follow
    assert [layout.body_text(i) for i in range(2)] == ["甲段\n乙段", "丙段"]
    start, end = layout.char_span(layout.bodies[1])
    assert text[start:end] == "丙段"
    # Replacing one body keeps every other character, blank lines included.
    assert layout.replace_body(0, "新段") == "标题\n开头\n\n一、组织建设\n新段\n\n二、帮扶解困\n丙段\n结尾"
    assert layout.replace_body(1, "新1\n新2") == "标题\n开头\n\n一、组织建设\n甲段\n乙段\n\n二、帮扶解困\n新1\n新2\n结尾"


def test_layout_is_refused_when_headings_are_gone_or_renumbered() -> None:
    text = "标题\n开头\n一、组织建设\n甲段\n二、帮扶\n丙段\n结尾"
    assert parse_layout(text.replace("二、帮扶", "帮扶"), 2) is None
    assert parse_layout(text.replace("二、帮扶", "三、帮扶"), 2) is None
    assert parse_layout("", 2) is None


def test_layout_round_trips_what_assemble_writes() -> None:
    parts = [("组织建设", "甲段\n乙段"), ("帮扶", "丙段"), ("存在的问题", "")]
    text = assemble("标题", "开头", parts, "结尾")
    layout = parse_layout(text, 3)
    assert layout is not None and layout.closing_text == "结尾" and layout.opening_text == "开头"
    assert [(layout.heading_text(i), layout.body_text(i)) for i in range(3)] == parts


def test_job_progress_from_pipeline_events() -> None:
    job = jobs.Job("draft", accepted=None, store=None, user_id=None,  # type: ignore[arg-type]
                   titles=["组织建设", "帮扶"])
    job.on_event(SectionStarted(0, 2, "组织建设"))
    job.on_event(Delta(0, "今年以来，"))
    job.on_event(SectionChecked(0, False, [{}], []))
    assert "正在修正" in job.view().current.note
    job.on_event(SectionRepaired(0, "fallback", True, "新建工会8家。"))
    job.on_event(SectionDone(0, "新建工会8家。", 3.0))
    # A whole-draft run announces only its first section; the others arrive done.
    job.on_event(SectionDone(1, "慰问困难职工120户。", 1.0))
    view = job.view()
    assert [(s.title, s.text, s.done) for s in view.sections] == [
        ("组织建设", "新建工会8家。", True), ("帮扶", "慰问困难职工120户。", True)]
    assert view.first_text_s is not None and view.first_section_s is not None and view.current is None
    assert view.first_checked_s == view.first_section_s  # no section came in parts
    job.cancel()
    with pytest.raises(Cancelled):
        job.on_event(Delta(1, "x"))


def test_a_finished_part_is_shown_as_checked_before_its_section_ends() -> None:
    job = jobs.Job("draft", accepted=None, store=None, user_id=None,  # type: ignore[arg-type]
                   titles=["帮扶"])
    job.on_event(SectionStarted(0, 1, "帮扶"))
    job.on_event(Delta(0, "上半年，走访慰问困难职工120户。"))
    job.on_event(PartDone(0, 0, 2, "上半年，走访慰问困难职工120户。"))
    job.on_event(Delta(0, "\n发放慰问金"))
    view = job.view()
    assert view.first_checked_s is not None and view.first_section_s is None
    assert view.current.checked == len("上半年，走访慰问困难职工120户。")
    assert view.current.text == "上半年，走访慰问困难职工120户。\n发放慰问金"
    # A retry of the second part keeps the first on the page.
    job.on_event(SectionStarted(0, 1, "帮扶", 1, "上半年，走访慰问困难职工120户。"))
    assert job.view().current.text == "上半年，走访慰问困难职工120户。" and job.view().current.checked > 0
