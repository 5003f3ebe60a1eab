"""Which sections get a closing genre phrase from the retrieved examples."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from drafting.flow import pipeline
from drafting.flow.plan import OutlineSection
from drafting.flow.request import DraftRequest, SectionInput


def _example(masked: str) -> SimpleNamespace:
    return SimpleNamespace(id="e1", summary_id="s1", title="某街道总工会工作总结", heading="一、", kind="topic",
                           org_level="街道", period="全年", text=masked, masked=masked, score=1.0, source="corpus")


@pytest.mark.parametrize(("kind", "closes"), [("topic", True), ("problems", False), ("plan", False)])
def test_only_a_topic_section_is_offered_closing_phrases(monkeypatch: pytest.MonkeyPatch, kind: str, closes: bool) -> None:
    """Held-out seed-004-02: a shortcomings paragraph closed on 发挥企业工会作用."""
    monkeypatch.setattr(pipeline, "find_examples", lambda section, request, k: [_example("切实增强工会凝聚力，发挥企业工会作用。")])
    section = OutlineSection("存在的问题和不足", ["基层工会作用发挥不够"], kind=kind)
    request = DraftRequest(org="东湖街道总工会", period="全年", year=2024, sections=[SectionInput(title=None, facts=section.facts)])
    styles, shown = pipeline._examples_for(section, request, 1)
    assert bool(styles) is closes
    assert [e["id"] for e in shown] == ["e1"]  # the example is still shown and recorded
