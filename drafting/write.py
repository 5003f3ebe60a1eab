"""Stage 4 — write: one section of prose from its bullets, through the configured model.

The embedded model gets an assistant prefill and a one-paragraph grammar (no newline, no
Markdown characters), which is what keeps a 1.5B model to plain 公文 prose.
"""
from __future__ import annotations

from collections.abc import Callable

from drafting.llm import Generation, LLMClient, Prompt
from drafting.plan import OutlineSection
from drafting.prompts import render

# One paragraph of plain prose: no line breaks and none of the characters Markdown needs.
PARAGRAPH_GRAMMAR = r"root ::= [^\n#*>|`_]+"
CHARS_PER_FACT = 90
MIN_SECTION_CHARS, MAX_SECTION_CHARS = 120, 700


def section_target_chars(section: OutlineSection) -> int:
    return max(MIN_SECTION_CHARS, min(MAX_SECTION_CHARS, CHARS_PER_FACT * len(section.facts)))


def section_prompt(section: OutlineSection, org: str, period: str, target_chars: int) -> Prompt:
    system, user = render(
        "section",
        org=org,
        period=period,
        heading=section.heading,
        facts="\n".join(f"- {fact}" for fact in section.facts),
        target_chars=target_chars,
    )
    # Qwen's tokenizer spends about one token per 1.4 Chinese characters; leave room to finish.
    return Prompt(system=system, user=user, prefill="", max_tokens=int(target_chars * 1.2) + 64,
                  grammar=PARAGRAPH_GRAMMAR)


def write_section(client: LLMClient, section: OutlineSection, org: str, period: str,
                  on_delta: Callable[[str], None] | None = None) -> Generation:
    prompt = section_prompt(section, org, period, section_target_chars(section))
    generation = client.stream(prompt, on_delta=on_delta)
    generation.text = generation.text.strip()
    return generation
