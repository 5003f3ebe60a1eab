"""Step 2 — classification: FACT, STRUCTURE, LEXICON, SOFT or PLACEHOLDER (policy §5.1).

Placeholders and heading numbers are settled during extraction. Here each numeric candidate
meets the allow-list: an entry that covers the candidate's numeral wins (三个代表, 十一期间,
千篇一律), unless the candidate strictly contains the entry (6.26万元 is money, 90多次 a count).
Then the rules that need context: national session numbers, quoted slogans, and 一 + measure
word (SOFT).
"""
from __future__ import annotations

import re
from bisect import bisect_right
from itertools import takewhile

from drafting.checker.lexicon import CATEGORY_CLASS, Lexicon
from drafting.checker.model import FACT, LEXICON, SOFT, Candidate, Figure

_QUOTE_RE = re.compile(r"“[^“”\n]{1,24}”|「[^「」\n]{1,24}」|‘[^‘’\n]{1,24}’|\"[^\"\n]{1,24}\"")
# The writer's own (local) bodies; a session number after one of these is a fact.
_LOCAL_BODY_RE = re.compile(r"[区县市镇乡省州][总委]|[区县市镇乡州]工会|街道|公司|集团|我会|本会")
_CLAUSE_RE = re.compile(r"[^,。;:!?\n、]{0,20}$")
_NUMERAL_CHARS = frozenset("0123456789〇零一二两三四五六七八九十百千万亿")


def classify(text: str, t: str, candidates: list[Candidate], taken: bytearray, lexicon: Lexicon) -> list[Figure]:
    hits = _lexicon_hits(t, lexicon, taken)
    hit_ends = [e for _, e, _ in hits]  # hits do not overlap, so their ends are sorted too
    beaten: set[int] = set()
    figures: list[Figure] = []
    quotes = [m.span() for m in _QUOTE_RE.finditer(t)] if "“" in t or '"' in t or "「" in t or "‘" in t else []
    quote_starts = [s for s, _ in quotes]
    for c in candidates:
        first = bisect_right(hit_ends, c.start)
        end = c.end
        overlapping = list(takewhile(lambda i: hits[i][0] < end, range(first, len(hits))))  # noqa: B023 — used at once
        if any(_entry_wins(c, hits[i][0], hits[i][1]) for i in overlapping):
            continue
        beaten.update(overlapping)
        q = bisect_right(quote_starts, c.start) - 1
        quoted = q >= 0 and c.end <= quotes[q][1] and not _whole_quote_quantity(c, *quotes[q])
        cls, note = _candidate_class(t, c, quoted, lexicon)
        figures.append(Figure(
            text[c.start:c.end], c.start, c.end, cls, c.kind, c.value, c.value2, c.unit, c.unit_text,
            c.hedge, c.scale, c.key, note,
        ))
    for i, (s, e, category) in enumerate(hits):
        hit_cls = CATEGORY_CLASS[category]
        if i in beaten or hit_cls is None:
            continue
        kind = {LEXICON: "lexicon", SOFT: "vague"}.get(hit_cls, "period")
        key = ("vague", text[s:e]) if hit_cls == SOFT else None
        figures.append(Figure(text[s:e], s, e, hit_cls, kind, key=key, note=category))
    return figures


def _whole_quote_quantity(c: Candidate, start: int, end: int) -> bool:
    """A measured quantity that is the quote's whole content (“99场”, "36万元") is a fact, not a slogan."""
    return bool(c.unit) and c.start <= start + 1 and c.end >= end - 1


def _entry_wins(c: Candidate, s: int, e: int) -> bool:
    touches_numeral = s < c.core_end and c.core_start < e
    strictly_inside_candidate = c.start <= s and e <= c.end and (e - s) < (c.end - c.start)
    return touches_numeral and not strictly_inside_candidate


def _lexicon_hits(t: str, lexicon: Lexicon, taken: bytearray) -> list[tuple[int, int, str]]:
    if lexicon.pattern is None:
        return []
    hits = []
    n = len(t)
    for m in lexicon.pattern.finditer(t):
        s, e = m.span()
        word = m.group()
        if any(taken[s:e]):
            continue
        # A numeral entry must not be a piece of a longer number (十五一, 16.26).
        if word[0] in _NUMERAL_CHARS and s > 0 and t[s - 1] in _NUMERAL_CHARS:
            continue
        if word[-1] in _NUMERAL_CHARS and e < n and t[e] in _NUMERAL_CHARS:
            continue
        hits.append((s, e, lexicon.category[word]))
    return hits


def _after_national_body(t: str, start: int, lexicon: Lexicon) -> bool:
    """Whether the organisation named last before `start` in its clause is a national body."""
    clause = _CLAUSE_RE.search(t, max(0, start - 20), start)
    window = clause.group() if clause else ""
    national_end = max((window.rfind(n) + len(n) for n in lexicon.national if n in window), default=-1)
    if national_end < 0:
        return False
    local_end = max((m.end() for m in _LOCAL_BODY_RE.finditer(window)), default=-1)
    return national_end >= local_end


def _candidate_class(t: str, c: Candidate, quoted: bool, lexicon: Lexicon) -> tuple[str, str]:
    if c.kind == "code":
        return LEXICON, "code"
    if c.kind == "session" and c.key is not None and c.key[-1] == "中":
        return LEXICON, "congress"  # N届M中全会: only the national Party congress holds 中全会
    if (c.unit == "届" or c.kind == "session") and _after_national_body(t, c.start, lexicon):
        return LEXICON, "congress"
    if quoted:
        return SOFT, "quoted"
    if c.prefix == "首" and c.unit != "届":
        return SOFT, "first"
    if c.chinese and c.kind == "quantity" and c.value == 1 and c.unit != "percent" and c.prefix not in ("第", "前"):
        return SOFT, "one"
    return FACT, ""
