"""Planning: topic grouping in corpus order, and the bullets that say where they belong."""
from __future__ import annotations

import pytest

from drafting.flow import assemble
from drafting.flow.plan import TOPICS, OutlineSection, classify_fact, fact_kind, plan
from drafting.flow.request import DraftRequest, SectionInput, build_request


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


@pytest.mark.parametrize("fact,kind", [
    ("下半年：推进职代会建设", "plan"),
    ("明年将继续开展金秋助学活动", "plan"),
    ("力争年底前建成职工书屋", "plan"),
    ("继续开展送温暖活动，慰问困难职工120户", "topic"),   # done work opening with 继续
    ("已建立“一户一策”帮扶计划，帮扶9户", "topic"),      # 计划 as a noun
    ("将辖区企业职工纳入医疗保障计划，完成女职工安康计划759份", "topic"),
    ("基层工会基础薄弱，作用发挥不够", "problems"),
    ("不足：思想解放不够", "problems"),
])
def test_tense_decides_plan_and_problem_bullets(fact: str, kind: str) -> None:
    assert fact_kind(fact) == kind


def test_neighbour_votes_refine_the_keyword_topic() -> None:
    fact = "组织职工参加摄影比赛"  # culture by keywords
    assert classify_fact(fact) == "culture"
    assert classify_fact(fact, lambda text: {"women": 0.5}) == "culture"  # a weak vote does not outweigh a keyword
    assert classify_fact(fact, lambda text: {"women": 9.0}) == "women"  # strong neighbours do
    assert classify_fact("下半年：组织职工参加摄影比赛", lambda text: {"women": 9.0}) == "plan"  # tense first


def test_the_opening_names_the_outlines_own_topics_and_the_closing_what_comes_next() -> None:
    """The frame fits the body: the opening names the topics of the sections below it (never a
    user's heading, never fewer than two), the closing looks to 下半年 or the new year."""
    request = DraftRequest("东湖街道总工会", "上半年", 2024, [SectionInput(None, ["新建工会2个"])])
    planned = [OutlineSection(t.heading, ["x"], topic=t.key) for t in TOPICS[:6]]
    opening = assemble.opening(request, [s.own_topic for s in planned])
    assert "在组织建设、依法履职维权、帮扶解困、劳动竞赛等方面扎实推进" in opening  # four at most
    renamed = OutlineSection("安全生产", ["x"], topic="rights")
    assert renamed.own_topic is None
    assert "等方面" not in assemble.opening(request, [planned[0].own_topic, renamed.own_topic])
    assert "将在下半年继续" in assemble.closing(request)
    assert "将在新的一年里继续" in assemble.closing(DraftRequest("东湖街道总工会", "全年", 2024, []))
    assert "将继续" in assemble.closing(DraftRequest("东湖街道总工会", "第一季度", 2024, []))
