"""Stage 7 — assemble: title, opening, numbered sections and closing into one text, and back:
`parse_layout` finds those parts again in a text the user may have edited."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from drafting.flow.request import DraftRequest
from drafting.headings import LEVEL1, ordinal
from drafting.prompts import fill, load_parts


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
    elif 2023 <= year <= 2027:  # the 20th congress's term; later years name no congress
        part = "guidance_from_2023"
    elif year >= 2018:
        part = "guidance_from_2018"
    else:
        part = "guidance_default"
    return fill("frame", part)


# Which words of the frame fit the body: by what its name says it is.
_LEVELS = (
    ("hospital", re.compile(r"医院|卫生院|卫生服务中心")),
    ("school", re.compile(r"大学|学院|学校|中学|小学|幼儿园|教育局")),
    ("enterprise", re.compile(r"公司|集团|厂|企业|银行|项目部")),
    ("area", re.compile(r"街道|镇|乡|社区|开发区|园区")),
)


def body_level(org: str) -> str:
    """hospital, school, enterprise, area (街道/镇…) or union (区、县、市总工会 and the rest)."""
    return next((level for level, pattern in _LEVELS if pattern.search(org)), "union")


def _key_values(part: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in load_parts("frame")[part].template.splitlines() if "=" in line)


def _level_words(org: str) -> dict[str, str]:
    return _key_values(f"level_{body_level(org)}")


MAX_NAMED_AREAS = 4


def areas(topics: Sequence[str | None]) -> str:
    """在组织建设、依法履职维权、帮扶解困等方面 — the draft's own topics, in its order, when it
    has two or more of the standard ones (a user heading names no topic); else nothing. The
    names are words of the topics' headings, so the opening says only what the sections below
    do and the claim check finds each name in a heading (…等重点 left 等重/重点 ungrounded and
    was flagged for 3 of the 154 pairs, triples and quadruples of topics)."""
    names = _key_values("topic_names")
    named = list(dict.fromkeys(names[t] for t in topics if t in names))[:MAX_NAMED_AREAS]
    return fill("frame", "areas", topics="、".join(named)) if len(named) >= 2 else ""


def opening(request: DraftRequest, topics: Sequence[str | None] = ()) -> str:
    """The opening for the body (`topics`: the sections' topic keys), its level and period."""
    phrase, word = period_phrases(request)
    words = _level_words(request.org)
    return fill("frame", "opening", period_phrase=phrase, period_word=word, org=request.org,
                guidance=guidance(request.year), focus=words["focus"], team=words["team"], areas=areas(topics))


def closing(request: DraftRequest) -> str:
    """The closing for the body's level and period: what comes next is 下半年 after a half-year,
    the new year after a year."""
    _, word = period_phrases(request)
    words = _level_words(request.org)
    parts = load_parts("frame")
    following = parts[f"next_{word}"].template if f"next_{word}" in parts else ""
    return fill("frame", "closing", period_word=word, org=request.org, expectation=words["expectation"],
                contribution=words["contribution"], next=following)


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


@dataclass(frozen=True)
class Layout:
    """Where the parts of an assembled (possibly hand-edited) draft sit, as line ranges.

    The first non-empty line is the title; the numbered headings 一、二、… in order split the
    rest; what precedes the first heading is the opening, and the last non-empty line after the
    last heading is the closing (as `assemble` writes it; a user who deletes the closing has
    their last paragraph taken for it, which still keeps every character in place). Ranges are [start, end) over `lines`
    and cover only non-empty lines, so that a splice keeps the user's blank lines as they are.
    """

    lines: tuple[str, ...]
    title: int
    opening: tuple[int, int]
    headings: tuple[int, ...]
    bodies: tuple[tuple[int, int], ...]
    closing: tuple[int, int]

    def part(self, span: tuple[int, int]) -> str:
        return "\n".join(line.strip() for line in self.lines[span[0]:span[1]] if line.strip())

    @property
    def title_text(self) -> str:
        return self.lines[self.title].strip()

    @property
    def opening_text(self) -> str:
        return self.part(self.opening)

    @property
    def closing_text(self) -> str:
        return self.part(self.closing)

    def heading_text(self, index: int) -> str:
        """Section `index`'s heading without its enumerator."""
        match = LEVEL1.match(self.lines[self.headings[index]])
        return match.group(2) if match else ""

    def body_text(self, index: int) -> str:
        return self.part(self.bodies[index])

    def char_span(self, span: tuple[int, int]) -> tuple[int, int]:
        """Character offsets in the text of a line range."""
        start = sum(len(line) + 1 for line in self.lines[:span[0]])
        end = start + sum(len(line) + 1 for line in self.lines[span[0]:span[1]]) - 1
        return start, max(start, end)

    def replace_body(self, index: int, body: str) -> str:
        """The text with section `index`'s body replaced and every other character kept."""
        start, end = self.bodies[index]
        new = [line for line in body.split("\n") if line.strip()]
        return "\n".join([*self.lines[:start], *new, *self.lines[end:]])


def _trimmed(lines: tuple[str, ...], start: int, end: int) -> tuple[int, int]:
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def parse_layout(text: str, n_sections: int) -> Layout | None:
    """The layout of `text` with `n_sections` numbered sections; None when the title or the
    headings 一、… in order cannot be found (the user removed or renumbered them)."""
    lines = tuple(text.split("\n"))
    title = next((i for i, line in enumerate(lines) if line.strip()), None)
    if title is None:
        return None
    headings: list[int] = []
    for i in range(title + 1, len(lines)):
        match = LEVEL1.match(lines[i])
        if match and len(headings) < n_sections and match.group(1) == ordinal(len(headings) + 1):
            headings.append(i)
    if len(headings) != n_sections:
        return None
    after = headings[-1] + 1 if headings else title + 1
    last = _trimmed(lines, after, len(lines))
    closing = (last[1] - 1, last[1]) if last[1] > last[0] else (last[1], last[1])
    ends = [*headings[1:], closing[0]]
    bodies = tuple(_trimmed(lines, h + 1, e) for h, e in zip(headings, ends))
    opening = _trimmed(lines, title + 1, headings[0] if headings else closing[0])
    return Layout(lines, title, opening, tuple(headings), bodies, closing)
