"""Stage 4 on its own: the section prompt, the length budget, the paragraph the model returns
cleaned, with the in-process scripted model."""
from __future__ import annotations

from drafting.flow.plan import OutlineSection
from drafting.flow.write import (
    MIN_SECTION_CHARS,
    WriteContext,
    fact_budget,
    fact_chunks,
    honest_chars,
    repair_prompt,
    section_prompt,
    section_target_chars,
    write_section,
)
from tests.fakes import ScriptedModel, bullets_of

CTX = WriteContext(org="东湖街道总工会", period="上半年", lead="上半年")
THIN = OutlineSection("加强自身建设，提升工会工作水平", ["抓了五个方面工作"])
RICH = OutlineSection("深化帮扶解困，用心服务职工群众", [
    "春节走访慰问困难职工120户，发放慰问金36万元",
    "金秋助学资助困难职工子女15名，发放助学金7.5万元",
    "为环卫工人送清凉，慰问一线职工600人次",
])


def test_the_length_follows_the_bullets_content() -> None:
    assert section_target_chars(THIN) == MIN_SECTION_CHARS  # a thin bullet stays short
    assert section_target_chars(RICH) > 3 * section_target_chars(THIN)
    assert fact_budget("抓了五个方面工作") < fact_budget(RICH.facts[0])
    assert honest_chars(RICH) > section_target_chars(RICH)  # an explicit target may ask for more, up to this


def test_the_prompt_asks_for_realisation_and_offers_no_phrases_to_copy() -> None:
    model = ScriptedModel(lambda p: "、".join(bullets_of(p)) + "。")
    write_section(model, RICH, CTX, target_chars=section_target_chars(RICH), position=0)
    prompt = model.prompts[0]
    assert bullets_of(prompt) == RICH.facts
    assert "不添加要点中没有的工作" in prompt.system and "不要凑字数" in prompt.system
    assert "可以借鉴" not in prompt.user  # genre phrases are attached by the pipeline, not offered
    assert prompt.prefill.startswith("上半年，东湖街道总工会") and prompt.paragraph


def test_the_answer_is_finished_and_cleaned() -> None:
    answer = ("东湖街道总工会深化帮扶解困，用心服务职工群众。春节走访慰问困难职工120户，发放慰问金36万元。"
              "以下是本节正文的详细内容。金秋助学资助困难职工子女15名，发放助学金7.5万元，为环卫工人送清凉，慰问一线")
    model = ScriptedModel(lambda p: answer)
    generation = write_section(model, RICH, CTX, target_chars=120)
    text = generation.text
    assert "以下是本节正文" not in text  # meta-text struck
    assert "依法履职维权" not in text and not text.startswith("上半年，东湖街道总工会深化帮扶解困")  # heading-only sentence struck
    assert text.endswith("。") and "慰问一线" not in text  # the unfinished tail dropped


def test_long_targets_get_more_calls_not_longer_ones() -> None:
    facts = [f"第{i}项工作完成" for i in range(6)]
    assert fact_chunks(facts) == [facts[:3], facts[3:]]
    assert len(fact_chunks(facts, target_chars=1200)) == 6


def test_a_short_first_part_then_the_usual_split() -> None:
    facts = [f"第{i}项工作完成" for i in range(6)]
    assert fact_chunks(facts, first=1) == [facts[:1], facts[1:4], facts[4:]]
    assert fact_chunks(facts[:1], first=1) == [facts[:1]]
    assert fact_chunks(facts[:2], first=1) == [facts[:1], facts[1:2]]
    assert fact_chunks(facts, first=0) == fact_chunks(facts)


def test_a_repair_shares_the_section_prompts_system_part() -> None:
    """The server keeps the evaluated prefix of the previous prompt: a repair must not evict
    the system prompt every section call starts with."""
    section = section_prompt(RICH, CTX, target_chars=120)
    repair = repair_prompt(RICH, "上半年走访慰问困难职工200户。", ["“200户”：要点中没有这个数字"], 120)
    assert repair.system == section.system
    assert bullets_of(repair) == RICH.facts
    assert "上半年走访慰问困难职工200户。" in repair.user and "要点中没有这个数字" in repair.user
    assert repair.user != section.user and repair.paragraph and not repair.prefill
