"""Stage 6 on its own: the re-ask names each problem, a better answer is taken, and the
deterministic fallback removes what is still wrong and restates what is missing."""
from __future__ import annotations

from drafting.flow.check import check
from drafting.flow.events import SectionChecked, SectionRepaired
from drafting.flow.plan import OutlineSection
from drafting.flow.repair import check_and_repair, drop_problem_clauses
from tests.fakes import ScriptedModel

SECTION = OutlineSection("深化帮扶解困，用心服务职工群众",
                         ["春节走访慰问困难职工120户，发放慰问金36万元", "金秋助学资助困难职工子女15名"])
FIELDS = ["东湖街道总工会", "上半年", "2024年"]
GOOD = "春节走访慰问困难职工120户，发放慰问金36万元。金秋助学资助困难职工子女15名。"


def test_a_clean_section_is_left_alone() -> None:
    model = ScriptedModel(lambda p: "不该被调用")
    result = check_and_repair(model, SECTION, GOOD, FIELDS, 120)
    assert result.text == GOOD and not result.attempts and not model.prompts


def test_the_re_ask_names_each_problem_and_a_better_answer_is_taken() -> None:
    bad = "春节走访慰问困难职工150户，发放慰问金36万元，同时开展职工法律知识培训。金秋助学资助困难职工子女15名。"
    model = ScriptedModel(lambda p: GOOD)
    events: list = []
    result = check_and_repair(model, SECTION, bad, FIELDS, 120, on_event=events.append, index=2)
    problems = model.prompts[0].user
    assert "“150户”" in problems and "开展职工法律知识培训" in problems  # the figure and the invented work
    assert result.text == GOOD and result.attempts == [
        {"how": "model", "problems": result.attempts[0]["problems"], "accepted": True}]
    assert isinstance(events[0], SectionChecked) and events[0].index == 2 and not events[0].ok
    assert isinstance(events[-1], SectionRepaired) and events[-1].how == "model"


def test_the_fallback_drops_the_problems_and_restates_what_is_missing() -> None:
    stubborn = "春节走访慰问困难职工150户，开展职工法律知识培训，发放慰问金36万元。"
    model = ScriptedModel(lambda p: stubborn)  # repeats itself when asked to repair
    result = check_and_repair(model, SECTION, stubborn, FIELDS, 120)
    assert [a["how"] for a in result.attempts] == ["model", "fallback"]
    report = check(result.text, SECTION.facts, FIELDS, context=[SECTION.heading])
    assert report.ok and not report.missing, result.text
    assert "150户" not in result.text and "法律知识培训" not in result.text and "120户" in result.text


def test_a_problem_in_the_first_clause_takes_the_sentence_with_it() -> None:
    text = "另建工会99家，新建工会8家。发放慰问金36万元，涉及99户。"
    report = check(text, ["新建工会8家", "发放慰问金36万元"])
    assert drop_problem_clauses(text, report) == "发放慰问金36万元。"
