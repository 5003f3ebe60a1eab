"""The draft's paragraphs as the exports see them: title, 一、 headings, （一） headings (with
their run-in heading sentence), body. Offsets are kept, so the checker's spans land on them."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from drafting.headings import LEVEL1_START, LEVEL2, NUMERAL

# A run-in level-2 heading ends at the first full stop, if that comes early in the paragraph.
_H2_RUN_IN = re.compile(rf"^(\s*[（(]{NUMERAL}[)）][^。！？\n]{{0,40}}[。！？]?)")


@dataclass(frozen=True)
class Block:
    """One paragraph of the draft: kind is title, h1, h2 or body; `start` its offset in the
    draft; `lead` the run-in heading part of an h2 paragraph."""

    kind: str
    text: str
    start: int
    lead: str = ""


def blocks(text: str) -> list[Block]:
    """The draft's paragraphs in order, classified. The first non-blank line is the title."""
    out: list[Block] = []
    start = 0
    for line in text.split("\n"):
        if not line.strip():
            pass
        elif not out:
            out.append(Block("title", line, start))
        elif LEVEL1_START.match(line):
            out.append(Block("h1", line, start))
        elif LEVEL2.match(line):
            lead = _H2_RUN_IN.match(line)
            out.append(Block("h2", line, start, lead.group(1) if lead else line))
        else:
            out.append(Block("body", line, start))
        start += len(line) + 1
    return out


@dataclass(frozen=True)
class Mark:
    """A span the checker flagged: kind "bad" (an unsupported figure) or "claim" (work no
    bullet grounds), with the reason shown to the reader."""

    start: int
    end: int
    kind: str
    text: str
    reason: str


def marks(check: dict | None) -> list[Mark]:
    """The flagged spans of a check report, in the order of the text."""
    check = check or {}
    found = [Mark(int(f["start"]), int(f["end"]), "bad", f.get("text", ""), f.get("reason", ""))
             for f in check.get("unsupported", [])]
    found += [Mark(int(c["start"]), int(c["end"]), "claim", c.get("text", ""), c.get("reason", ""))
              for c in check.get("claims", [])]
    return sorted(found, key=lambda m: (m.start, m.end))


def signature_date(day: date) -> str:
    """成文日期 in Arabic numerals without leading zeros (GB/T 9704-2012 7.3.5.1): 2024年7月5日."""
    return f"{day.year}年{day.month}月{day.day}日"
