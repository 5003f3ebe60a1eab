"""Stage 3 — retrieve: style examples for each section from past summaries.

Examples teach tone and phrasing only. Even masked (`〔数〕`), a figure slot invites the small
model to fill it, and a whole example sentence invites it to copy the activity it reports, so
the prompt gets only short set phrases free of figures, slots and names. The user is shown the
original sections.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from drafting.figures import FACT, LEXICON, PLACEHOLDER, extract
from drafting.plan import OutlineSection
from drafting.request import DraftRequest

log = logging.getLogger(__name__)

_CLAUSE = re.compile(r"[^，,；;。：:！？!?\n]+")
_ENUMERATOR = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、是]|[（(][一二三四五六七八九十\d]+[)）]、?|\d+[、.．]|第[一二三四五六七八九十]+[、，])")
_QUOTED = re.compile(r"[“”《》「」‘’\"']")
_BANNED_FIGURES = {FACT, LEXICON, PLACEHOLDER}
MIN_PHRASE_CHARS, MAX_PHRASE_CHARS = 5, 16


@lru_cache(maxsize=1)
def _index() -> Any:
    from drafting.index import ExampleIndex

    return ExampleIndex.open()


def reset_index_cache() -> None:
    _index.cache_clear()


def style_phrases(masked: str, limit: int = 8) -> list[str]:
    """Short set phrases of a masked example (`以活动为载体`, `切实维护职工合法权益`).

    Whole example sentences get copied by a small model, activities and all; clauses of a few
    words carry the register without a story to copy. Clauses with a figure, a masked slot, a
    quotation or a title are left out.
    """
    phrases: list[str] = []
    for match in _CLAUSE.finditer(masked):
        phrase = _ENUMERATOR.sub("", match.group().strip())
        if not MIN_PHRASE_CHARS <= len(phrase) <= MAX_PHRASE_CHARS or "〔" in phrase or _QUOTED.search(phrase):
            continue
        if phrase in phrases or any(f.cls in _BANNED_FIGURES for f in extract(phrase)):
            continue
        phrases.append(phrase)
        if len(phrases) >= limit:
            break
    return phrases


def find_examples(section: OutlineSection, request: DraftRequest, k: int) -> list[Any]:
    """The k past sections closest to this section's heading and bullets (empty without an index)."""
    if k <= 0:
        return []
    try:
        index = _index()
        return index.query(
            section.heading + "\n" + "\n".join(section.facts), k=k,
            org_level=request.org, period=request.period, kind=section.kind,
        )
    except Exception as exc:  # the index is an aid: drafting goes on without it
        log.warning("retrieval failed, writing without examples: %s", exc)
        return []
