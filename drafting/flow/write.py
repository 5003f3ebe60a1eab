"""Stage 4 — write: the prose of one section (or of the whole draft) through the configured model.

The model's job is realisation, not invention: each bullet becomes one or two 公文 sentences
saying what the bullet says, and a section's length follows its bullets' own content
(`fact_budget`), so a thin bullet gives a short section instead of padding. Genre phrases of
effect and stance are not offered to the model (it turns them into work this body never did);
the pipeline attaches one from the retrieved examples itself. Every answer goes through
`hygiene.clean_paragraph`.

The embedded model gets an assistant prefill and is held to one paragraph (no newline, no
Markdown characters; see `drafting.model.paragraph`): that is what keeps a 1.5B model to plain 公文
prose. The system prompt is the same for every section so the server's prompt cache reuses it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from drafting.flow.hygiene import clean_paragraph
from drafting.flow.plan import OutlineSection
from drafting.model.llm import Generation, LLMClient, Prompt
from drafting.prompts import fill, load_parts, render

MIN_LENGTH_SHARE = 0.7  # with an explicit length target, each call writes at least this share of its part
MAX_FACTS_PER_CALL = 3  # the 1.5B model writes well from two or three bullets at a time
CHARS_PER_CALL = 200  # what one call writes naturally; a longer target gets more calls
# The model sometimes echoes its prompt ("本节要点：…") after the paragraph: cut from there.
_PROMPT_ECHO = re.compile(r"(?:可以借鉴的公文用语|本节要点|本节标题|原稿的问题|参考文风)[：:]?")
# A bullet is stated in about 1.3 times its own length (公文 wording is fuller than a note), and
# at most about twice it plus a connective when a length target asks for more.
BUDGET_SHARE, BUDGET_EXTRA, MIN_FACT_BUDGET = 1.3, 8, 16
HONEST_SHARE, HONEST_EXTRA = 2.0, 24
LEAD_CHARS = 12  # the section's opening words (上半年，某某工会…)
MIN_SECTION_CHARS, MAX_SECTION_CHARS = 40, 600
TOKENS_PER_CHAR = 0.8  # Qwen spends ~0.7 tokens per Chinese character; leave room to finish
_SENTENCE_END = "。！？；”"
# "…如下：1.…。2.…" inside a paragraph is a list in disguise; the enumerators go.
_INLINE_ENUMERATOR = re.compile(r"(?<=[：:。；;])\s*(?:\d{1,2}|[一二三四五六七八九十])[.．、)）](?!\d)")


@dataclass(frozen=True)
class WriteContext:
    """What every section's prompt shares: the body, its period and the lead words."""

    org: str
    period: str
    lead: str  # 上半年 / 一年来 / 前三季度: how a sentence about this period starts


def _content_chars(fact: str) -> int:
    return len(re.sub(r"\s", "", fact))


def fact_budget(fact: str) -> int:
    """Characters to state one bullet: its own content, in fuller words."""
    return max(MIN_FACT_BUDGET, round(BUDGET_SHARE * _content_chars(fact)) + BUDGET_EXTRA)


def honest_chars(section: OutlineSection) -> int:
    """The most a section can say about its bullets without adding anything to them."""
    return LEAD_CHARS + sum(round(HONEST_SHARE * _content_chars(f)) + HONEST_EXTRA for f in section.facts)


def section_target_chars(section: OutlineSection) -> int:
    return max(MIN_SECTION_CHARS, min(MAX_SECTION_CHARS, LEAD_CHARS + sum(map(fact_budget, section.facts))))


def max_tokens_for(target_chars: int) -> int:
    return int(target_chars * TOKENS_PER_CHAR * 1.5) + 48


def prefill_for(section: OutlineSection, ctx: WriteContext, position: int) -> str:
    """A short opening for the embedded model's answer; topic sections rotate through variants."""
    lines = [line for line in load_parts("prefill")[section.kind if section.kind in ("problems", "plan") else "topic"]
             .template.splitlines() if line.strip()]
    choice = lines[position % len(lines)]
    return choice.replace("$org", ctx.org).replace("$period", ctx.lead)


def fact_chunks(facts: list[str], size: int = MAX_FACTS_PER_CALL, target_chars: int = 0,
                first: int = 0) -> list[list[str]]:
    """Bullets split into near-equal calls of at most `size` (4 → 2+2, not 3+1).

    With a length target, into as many calls as the target needs at about `CHARS_PER_CALL`
    each (up to one bullet per call): forced past its natural end, the small model pads with
    echoes of its prompt, so a long section is written as more short paragraphs instead.
    With `first`, the first call writes only that many bullets (a draft's first part, so that
    its first checked text comes early) and the rest are split as usual.
    """
    if 0 < first < len(facts):
        rest = facts[first:]
        return [facts[:first], *fact_chunks(rest, size, target_chars * len(rest) // len(facts))]
    n = -(-len(facts) // size)
    if target_chars:
        n = min(max(n, round(target_chars / CHARS_PER_CALL)), len(facts))
    if n <= 1:
        return [facts]
    base, extra = divmod(len(facts), n)
    chunks, start = [], 0
    for i in range(n):
        end = start + base + (1 if i < extra else 0)
        chunks.append(facts[start:end])
        start = end
    return chunks


def section_prompt(section: OutlineSection, ctx: WriteContext, target_chars: int, position: int = 0,
                   min_chars: int = 0) -> Prompt:
    facts = "\n".join(f"- {fact}" for fact in section.facts)
    system, user = render("section", org=ctx.org, period=ctx.period, heading=section.heading, facts=facts,
                          target_chars=target_chars)
    return Prompt(system=system, user=user, prefill=prefill_for(section, ctx, position),
                  max_tokens=max_tokens_for(target_chars), paragraph=True, min_chars=min_chars)


def finish_paragraph(text: str) -> str:
    """Strip the text; when the model stopped mid-sentence, drop the unfinished tail."""
    text = _INLINE_ENUMERATOR.sub("", re.sub(r"\s+", "", text))
    if echo := _PROMPT_ECHO.search(text):
        text = text[: echo.start()]
    if not text or text[-1] in _SENTENCE_END:
        return text
    cut = max(text.rfind(ch) for ch in _SENTENCE_END)
    return text[: cut + 1] if cut > 0 else text + "。"


def write_section(client: LLMClient, section: OutlineSection, ctx: WriteContext, target_chars: int,
                  position: int = 0, temperature: float = 0.3, on_delta: Callable[[str], None] | None = None,
                  min_chars: int = 0) -> Generation:
    prompt = section_prompt(section, ctx, target_chars, position, min_chars)
    prompt.temperature = temperature
    generation = client.stream(prompt, on_delta=on_delta)
    generation.text = clean_paragraph(finish_paragraph(generation.text), section.facts,
                                      (section.heading, ctx.org, ctx.period, ctx.lead))
    return generation


def repair_prompt(section: OutlineSection, draft: str, problems: list[str], target_chars: int) -> Prompt:
    """The re-ask of a section with its problems named. Its system prompt is the section
    prompt's own, so the server keeps that prefix evaluated across a draft's calls: a repair
    with a system prompt of its own had the next section prefill ~300 tokens again."""
    user = fill("section", "repair", facts="\n".join(f"- {fact}" for fact in section.facts), draft=draft,
                problems="\n".join(f"- {p}" for p in problems), target_chars=target_chars)
    return Prompt(system=fill("section", "system"), user=user, max_tokens=max_tokens_for(target_chars),
                  temperature=0.2, paragraph=True)
