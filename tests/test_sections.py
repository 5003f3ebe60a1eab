"""Splitting past summaries into sections, topic labels, and the model-facing masked text."""
from __future__ import annotations

import re

import pytest

from drafting.retrieval.corpus import QUALITY_CLEAN, Summary, heldout_ids, load_summaries
from drafting.retrieval.masking import NAME_TAG, NUM_TAG, mask
from drafting.retrieval.sections import GENERAL_TOPIC, KINDS, MAX_CHARS, PROBLEMS_TOPIC, split_summary, topic_of

ALL = {s.id: s for s in load_summaries("all")}
# Anything a model could copy as a figure or fill as a slot.
_LEFTOVER = re.compile(r"[0-9０-９]|[xX×]{1,}(?![a-zA-Z])|[*＊]{2,}|_{2,}|〔(?![数名]〕)")


def _sections(summary_id: str):
    return split_summary(ALL[summary_id])


def test_splits_hold_out_the_evaluation_summaries() -> None:
    index_ids = {s.id for s in load_summaries("index")}
    heldout = {s.id for s in load_summaries("heldout")}
    assert heldout == set(heldout_ids()) and len(heldout) == 6
    assert not index_ids & heldout
    assert len(index_ids) + len(heldout) == len(ALL) == 26
    assert ALL["seed-002-01"].quality == "masked" and ALL["seed-000-01"].quality == QUALITY_CLEAN


@pytest.mark.parametrize("summary_id", sorted(ALL))
def test_sections_cover_the_text_in_order_at_a_sensible_size(summary_id: str) -> None:
    summary = ALL[summary_id]
    sections = split_summary(summary)
    joined = "".join(s.text for s in sections)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", summary.text)
    assert [s.ordinal for s in sections] == list(range(len(sections)))
    assert all(len(s.text) <= MAX_CHARS for s in sections)
    assert all(s.kind in KINDS for s in sections)
    assert all(s.summary_id == summary_id and s.org_level == summary.org_level for s in sections)


def test_corpus_granularity() -> None:
    sections = [s for summary in ALL.values() for s in split_summary(summary)]
    body = [s for s in sections if s.kind in ("topic", "plan", "problems")]
    within = [s for s in body if 100 <= len(s.text) <= MAX_CHARS]
    assert len(within) / len(body) > 0.9


def test_level_two_sections_keep_their_level_one_heading() -> None:
    sections = _sections("seed-000-01")
    rights = next(s for s in sections if s.heading.startswith("(三)农民工维权工作"))
    assert rights.context == "一、上半年重点工作总结" and rights.kind == "topic" and rights.topic == "维权"
    assert sections[0].kind == "opening"
    assert [s.kind for s in sections if s.heading.startswith("二、")] == ["problems"]
    assert [s.kind for s in sections if s.heading.startswith("三、")] == ["plan"]


def test_unheaded_plan_that_restarts_at_yi() -> None:
    sections = _sections("seed-003-04")
    plan = [s for s in sections if s.kind == "plan"]
    assert plan and plan[0].text.startswith("一、抓组织,促规范")
    assert all(s.kind == "topic" for s in sections[1:] if s.ordinal < plan[0].ordinal)


def test_unheaded_plan_that_restarts_at_paren_yi() -> None:
    sections = _sections("seed-003-12")
    plan = [s for s in sections if s.kind == "plan"]
    assert any(s.heading.startswith("(一)持续深化基层工会规范化建设") for s in plan)
    assert "xx街道工会将始终坚持" in plan[0].text  # the plan's lead-in paragraph goes with it


def test_marked_plan_part_problems_and_plan_paragraphs_and_sign_off() -> None:
    plan = [s for s in _sections("seed-004-01") if s.kind == "plan"]
    assert any(s.context == "下半年工作意见" for s in plan)
    kinds = [s.kind for s in _sections("seed-000-04")]
    assert kinds[-2:] == ["problems", "plan"]
    last = _sections("seed-003-10")[-1]
    assert last.kind == "closing" and last.text.endswith("20xx年xx月xx日")


def test_no_headings_at_all() -> None:
    text = "今年以来，街道总工会在党工委领导下扎实开展工作。\n" + "走访慰问困难职工，送去党和政府的温暖。" * 20
    sections = split_summary(Summary(id="u-1", title="t", org_level="", period="", text=text))
    assert sections[0].kind == "opening" and all(s.kind == "topic" for s in sections[1:])


def test_topic_labels() -> None:
    assert topic_of("(四)困难帮扶", "春节前走访慰问困难职工") == "帮扶"
    assert topic_of("二、文体活动", "") == "文体"
    assert topic_of("", "宣传") == GENERAL_TOPIC  # one incidental word is no topic
    assert next(s for s in _sections("seed-000-01") if s.kind == "problems").topic == PROBLEMS_TOPIC


@pytest.mark.parametrize("summary_id", sorted(ALL))
def test_masked_text_has_no_digits_or_placeholders(summary_id: str) -> None:
    for section in split_summary(ALL[summary_id]):
        assert not _LEFTOVER.search(section.masked), section.masked


def test_masking_keeps_style_and_hides_figures_and_names() -> None:
    text = ("20xx年**区总工会坚持以“三个代表”重要思想为指导，为推进“十三五”发展，"
            "在5月5日召开区总工会三届二次全委会，完成8家企业建会，占任务的53.3%，发放慰问金90多万元。"
            "浙江隆中机械公司工会主席陈素萍获得全国“五一”劳动奖章，金秋助学、法律援助工作建立健全。")
    masked = mask(text)
    for kept in ("三个代表", "十三五", "五一", "金秋助学", "法律援助", "建立健全", "区总工会"):
        assert kept in masked
    for gone in ("20xx", "**", "5月5日", "三届二次", "8家", "53.3%", "90多万元", "陈素萍", "隆中"):
        assert gone not in masked
    assert NUM_TAG in masked and NAME_TAG in masked
    assert mask("1、走访慰问困难职工35名。\n2、发放慰问金4万余元。") == "走访慰问困难职工〔数〕。\n发放慰问金〔数〕。"
