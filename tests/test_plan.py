"""Planning: topic grouping in corpus order, and the bullets that say where they belong."""
from __future__ import annotations

from drafting.plan import classify_fact, plan
from drafting.request import SectionInput, build_request


def test_bullets_are_grouped_by_topic_in_corpus_order() -> None:
    facts = ["春节走访慰问困难职工120户", "新建非公企业工会8家", "举办职工运动会1次"]
    request = build_request("东湖街道总工会", "上半年", 2024, [SectionInput(None, facts)])
    outline = plan(request)
    assert [s.topic for s in outline.sections] == ["organise", "help", "culture"]
    assert outline.title == "东湖街道总工会2024年上半年工作总结"


def test_a_bullet_opened_with_its_kind_goes_there_whatever_its_words() -> None:
    plan_bullet = "下半年：发挥困难职工援助中心、法律援助分团、维权热线作用"  # rights and help words
    problem_bullet = "不足：维权机制不健全，基层服务指导不到位"
    assert classify_fact(plan_bullet) == "plan"
    assert classify_fact(problem_bullet) == "problems"
    assert classify_fact("发挥法律援助分团、维权热线作用") == "rights"
    request = build_request("东海县总工会", "上半年", None, [SectionInput(None, ["组建基层工会27家", plan_bullet, problem_bullet])])
    kinds = [(s.kind, s.facts) for s in plan(request).sections]
    assert kinds == [("topic", ["组建基层工会27家"]), ("problems", [problem_bullet]), ("plan", [plan_bullet])]
