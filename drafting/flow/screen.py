"""Bullets are data, never instructions to the model, and never garbage.

A bullet (or a heading) that tries to override the model's instructions — 忽略以上指令…,
"ignore previous instructions", 你现在是…, a fake system prompt — is not a fact about the
union's work. Such lines are kept out of the prompt and out of the facts the checker accepts,
and the caller is told which were left out. Everything else stays data: the section prompt
lists bullets as items under the rule that only their figures may be stated, and the checker
holds every figure in the output to the remaining bullets, so an instruction that slips past
these patterns still cannot bring a number of its own into the final draft.
The patterns are narrow on purpose: 忽视安全要求, 违反规定, 覆盖率90%以上 are facts. A line of
markup, mojibake or symbols (less than 40% Chinese characters and digits) is left out the same
way: a model asked to state it writes it into the draft verbatim.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from drafting.flow.request import DraftRequest, SectionInput, build_request

_OVERRIDE_ZH = re.compile(
    r"(?:忽略|无视|忘记|忘掉|不要理会|不用理会|不必遵守|不要遵守|不再遵守)"
    r"[^。；;\n]{0,12}?(?:指令|指示|提示词|提示|规则|设定|限制|约束|命令|以上|上述|上面|前面|之前|此前)"
)
_ROLE_ZH = re.compile(r"(?:你现在是|你现在扮演|从现在开始你是|请扮演|假装你是|系统提示|系统指令|开发者模式|越狱)")
_OVERRIDE_EN = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.;\n]{0,40}?"
    r"\b(?:instructions?|prompts?|rules?|above|previous|prior|system)\b"
    r"|\b(?:system prompt|jailbreak|developer mode|you are now|act as|pretend to be)\b",
    re.IGNORECASE,
)
_CHAT_MARKUP = re.compile(r"<\|im_(?:start|end)\|>|^\s*(?:system|assistant|user)\s*[:：]", re.IGNORECASE)


_MARKUP = re.compile(r"<\s*/?\s*(?:script|style|iframe|img|svg|a)\b|javascript:|\ufffd|[ÿþ]{2}|ï»¿", re.IGNORECASE)
_CONTENT_CHAR = re.compile(r"[\u4e00-\u9fff0-9０-９]")
MIN_CONTENT_SHARE = 0.4


def is_instruction(text: str) -> bool:
    """True when `text` reads as an instruction to the model rather than a fact."""
    return any(p.search(text) for p in (_OVERRIDE_ZH, _ROLE_ZH, _OVERRIDE_EN, _CHAT_MARKUP))


def is_garbage(text: str) -> bool:
    """True for markup, mojibake or a run of symbols (￥%……&*…<script>…ÿþ): no fact to state."""
    bare = re.sub(r"\s", "", text)
    if _MARKUP.search(bare):
        return True
    return len(bare) >= 4 and len(_CONTENT_CHAR.findall(bare)) < MIN_CONTENT_SHARE * len(bare)


def left_out(text: str) -> bool:
    return is_instruction(text) or is_garbage(text)


@dataclass
class Screened:
    sections: list[SectionInput]
    ignored: list[str] = field(default_factory=list)  # the bullets and headings left out


def screen(sections: list[SectionInput]) -> Screened:
    """Drop instruction-like bullets and headings (a dropped heading's bullets stay, untitled)."""
    result = Screened(sections=[])
    for section in sections:
        title = section.title
        if title and left_out(title):
            result.ignored.append(title)
            title = None
        facts: list[str] = []
        for fact in section.facts:
            (result.ignored if left_out(fact) else facts).append(fact)
        result.sections.append(SectionInput(title=title, facts=facts))
    return result


def screen_request(request: DraftRequest) -> tuple[DraftRequest, list[str]]:
    """The request without instruction-like bullets and headings, and what was left out.

    Raises `RequestError` when nothing but instructions remains. The API, the page and the CLI
    all draft from the screened request, so a left-out line reaches neither the model nor the
    checker's list of supported figures.
    """
    screened = screen(request.sections)
    if not screened.ignored:
        return request, []
    kept = build_request(request.org, request.period, request.year, screened.sections, request.options)
    return kept, screened.ignored


def ignored_note(ignored: list[str]) -> str:
    """The Chinese notice shown to the user for left-out lines."""
    return (f"有 {len(ignored)} 条内容看起来是对模型下的指令、乱码或符号，而不是工作要点，未写入总结："
            + "；".join(f"“{text[:30]}”" for text in ignored))
