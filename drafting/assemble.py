"""Stage 7 — assemble: title, opening, numbered sections and closing into one text."""
from __future__ import annotations

from drafting.prompts import fill
from drafting.request import DraftRequest

CN_ORDINALS = "一二三四五六七八九十"


def ordinal(i: int) -> str:
    """1 → 一, 11 → 十一, 20 → 二十 (enough for any outline)."""
    if i <= 10:
        return CN_ORDINALS[i - 1]
    tens, ones = divmod(i, 10)
    return ("" if tens == 1 else CN_ORDINALS[tens - 1]) + "十" + (CN_ORDINALS[ones - 1] if ones else "")


def period_phrases(request: DraftRequest) -> tuple[str, str]:
    """('2024年上半年', '上半年') — the phrase that opens the text and the one for 现将…总结如下."""
    word = "全年" if request.period in ("全年", "年度") else request.period
    if word == "全年":
        return (f"{request.year}年" if request.year else "一年来"), word
    return (f"{request.year}年{word}" if request.year else f"今年{word}"), word


def guidance(year: int | None) -> str:
    """The guiding-thought clause for the year: nothing that postdates it, nothing when unknown."""
    if year is None:
        part = "guidance_default"
    elif year >= 2023:
        part = "guidance_from_2023"
    elif year >= 2018:
        part = "guidance_from_2018"
    else:
        part = "guidance_default"
    return fill("frame", part)


def opening(request: DraftRequest) -> str:
    phrase, word = period_phrases(request)
    return fill("frame", "opening", period_phrase=phrase, period_word=word, org=request.org,
                guidance=guidance(request.year))


def closing(request: DraftRequest) -> str:
    _, word = period_phrases(request)
    return fill("frame", "closing", period_word=word, org=request.org)


def section_heading(index: int, heading: str) -> str:
    return f"{ordinal(index + 1)}、{heading.rstrip('。；;，,')}"


def assemble(title: str, opening_text: str, sections: list[tuple[str, str]], closing_text: str) -> str:
    """`sections` are (heading, body) pairs, headings without their enumerator."""
    parts = [title, opening_text]
    for i, (heading, body) in enumerate(sections):
        parts.append(section_heading(i, heading))
        parts.append(body)
    parts.append(closing_text)
    return "\n".join(p.strip() for p in parts if p.strip())
