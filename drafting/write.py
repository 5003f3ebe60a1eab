"""Stage 4 — write: the prose of one section (or of the whole draft) through the configured model.

The embedded model gets an assistant prefill and is held to one paragraph (no newline, no
Markdown characters; see `drafting.paragraph`): that is what keeps a 1.5B model to plain 公文
prose. The system prompt is the same for every section so the server's prompt cache reuses
it. Prompts are budgeted with tiktoken against the context window: examples are trimmed
first, bullets never.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from drafting.llm import Generation, LLMClient, Prompt
from drafting.plan import OutlineSection
from drafting.prompts import load_parts, render
from drafting.tokens import count_tokens, fit_to_budget

MIN_LENGTH_SHARE = 0.7  # with an explicit length target, each call writes at least this share of its part
MAX_FACTS_PER_CALL = 3  # the 1.5B model writes well from two or three bullets at a time
CHARS_PER_CALL = 200  # what one call writes naturally; a longer target gets more calls
# The model sometimes echoes its prompt ("可以借鉴的公文用语：…") after the paragraph: cut from there.
_PROMPT_ECHO = re.compile(r"(?:可以借鉴的公文用语|本节要点|本节标题|原稿的问题|参考文风)[：:]?")
CHARS_PER_FACT = 80
MIN_SECTION_CHARS, MAX_SECTION_CHARS = 100, 600
TOKENS_PER_CHAR = 0.8  # Qwen spends ~0.7 tokens per Chinese character; leave room to finish
PROMPT_MARGIN = 64
_SENTENCE_END = "。！？；”"
# "…如下：1.…。2.…" inside a paragraph is a list in disguise; the enumerators go.
_INLINE_ENUMERATOR = re.compile(r"(?<=[：:。；;])\s*(?:\d{1,2}|[一二三四五六七八九十])[.．、)）](?!\d)")


@dataclass(frozen=True)
class WriteContext:
    """What every section's prompt shares: the body, its period and the lead words."""

    org: str
    period: str
    lead: str  # 上半年 / 一年来 / 前三季度: how a sentence about this period starts


def section_target_chars(section: OutlineSection) -> int:
    return max(MIN_SECTION_CHARS, min(MAX_SECTION_CHARS, CHARS_PER_FACT * len(section.facts)))


def max_tokens_for(target_chars: int) -> int:
    return int(target_chars * TOKENS_PER_CHAR * 1.5) + 48


def prefill_for(section: OutlineSection, ctx: WriteContext, position: int) -> str:
    """A short opening for the embedded model's answer; topic sections rotate through variants."""
    lines = [line for line in load_parts("prefill")[section.kind if section.kind in ("problems", "plan") else "topic"]
             .template.splitlines() if line.strip()]
    choice = lines[position % len(lines)]
    return choice.replace("$org", ctx.org).replace("$period", ctx.lead)


def _examples_block(phrases: list[str], budget: int) -> str:
    kept = fit_to_budget([f"{p}；" for p in phrases if p], budget)
    return f"可以借鉴的公文用语（只借用措辞，不要当作本单位做过的事）：{''.join(kept)}\n" if kept else ""


def fact_chunks(facts: list[str], size: int = MAX_FACTS_PER_CALL, target_chars: int = 0) -> list[list[str]]:
    """Bullets split into near-equal calls of at most `size` (4 → 2+2, not 3+1).

    With a length target, into as many calls as the target needs at about `CHARS_PER_CALL`
    each (up to one bullet per call): forced past its natural end, the small model pads with
    echoes of its prompt, so a long section is written as more short paragraphs instead.
    """
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


def section_prompt(section: OutlineSection, ctx: WriteContext, styles: list[str], target_chars: int,
                   context_window: int, position: int = 0, min_chars: int = 0) -> Prompt:
    facts = "\n".join(f"- {fact}" for fact in section.facts)
    max_tokens = max_tokens_for(target_chars)
    values = dict(org=ctx.org, period=ctx.period, heading=section.heading, facts=facts, target_chars=target_chars)
    system, bare_user = render("section", examples="", **values)
    room = context_window - max_tokens - PROMPT_MARGIN - count_tokens(system) - count_tokens(bare_user)
    _, user = render("section", examples=_examples_block(styles, max(room, 0)), **values)
    return Prompt(system=system, user=user, prefill=prefill_for(section, ctx, position), max_tokens=max_tokens,
                  paragraph=True, min_chars=min_chars)


def finish_paragraph(text: str) -> str:
    """Strip the text; when the model stopped mid-sentence, drop the unfinished tail."""
    text = _INLINE_ENUMERATOR.sub("", re.sub(r"\s+", "", text))
    if echo := _PROMPT_ECHO.search(text):
        text = text[: echo.start()]
    if not text or text[-1] in _SENTENCE_END:
        return text
    cut = max(text.rfind(ch) for ch in _SENTENCE_END)
    return text[: cut + 1] if cut > 0 else text + "。"


def write_section(client: LLMClient, section: OutlineSection, ctx: WriteContext, styles: list[str],
                  target_chars: int, position: int = 0, temperature: float = 0.3,
                  on_delta: Callable[[str], None] | None = None, min_chars: int = 0) -> Generation:
    prompt = section_prompt(section, ctx, styles, target_chars, client.context_window, position, min_chars)
    prompt.temperature = temperature
    generation = client.stream(prompt, on_delta=on_delta)
    generation.text = finish_paragraph(generation.text)
    return generation


def repair_prompt(section: OutlineSection, draft: str, problems: list[str], target_chars: int) -> Prompt:
    system, user = render(
        "repair", facts="\n".join(f"- {fact}" for fact in section.facts), draft=draft,
        problems="\n".join(f"- {p}" for p in problems), target_chars=target_chars,
    )
    return Prompt(system=system, user=user, max_tokens=max_tokens_for(target_chars), temperature=0.2,
                  paragraph=True)
