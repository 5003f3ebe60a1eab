"""Stage 3 — retrieve: style examples for each section, and the planner's neighbour votes, from
the index of past summaries (`drafting.retrieval`).

Examples teach tone and phrasing only. Even masked (`〔数〕`), a figure slot invites the small
model to fill it, and a whole example sentence invites it to copy the activity it reports, so
the prompt gets only short set phrases free of figures, slots and names. The user is shown the
original sections.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from drafting.checker import FACT, LEXICON, PLACEHOLDER, extract
from drafting.config import Settings, get_settings
from drafting.flow.plan import OutlineSection
from drafting.flow.request import DraftRequest

if TYPE_CHECKING:  # the index (chromadb, numpy, the embedder) loads when a draft first needs it
    from drafting.retrieval.index import ExampleIndex

log = logging.getLogger(__name__)

_CLAUSE = re.compile(r"[^，,；;。：:！？!?\n]+")
_ENUMERATOR = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、是]|[（(][一二三四五六七八九十\d]+[)）]、?|\d+[、.．]|第[一二三四五六七八九十]+[、，])")
_QUOTED = re.compile(r"[“”《》「」‘’\"']")
# Only clauses that state an effect or a stance (增强…凝聚力, 受到职工欢迎) are offered: a small model
# turns any clause describing an activity (开展…, 建立…) into something this body never did.
_EFFECT = re.compile(r"增强|提升|提高|促进|维护|受到|得到|取得|营造|凝聚|推动|发挥|保障|夯实|激发|彰显|切实|有效|进一步")
_DEICTIC = re.compile(r"[该此这其]|他们|我们|上述")  # 保障了该农民工…: points at the example's own story
# A clause that leads into another (围绕增强基层工会活力，…) cannot close a paragraph.
_LEAD_IN = re.compile(r"^(?:围绕|为了|为|以|通过|按照|根据|在|对|随着|针对|结合|借助|依托|坚持)")
_ACTIVITY = re.compile(r"开展|组织|举办|建立|搭建|召开|成立|设立|发放|慰问|走访|培训|参加|举行|制定|印发|评选|表彰|签订|创建|组建")
# Effect clauses can still carry another body's story (村容村貌和人居环境得到了较大改善), and a
# small model writes it down as this body's work. A phrase is offered only when nearly all of it
# is effect words, the genre's own vocabulary, filler, or words of the section's own bullets.
_GENRE = re.compile(
    r"职工|工会|会员|群众|员工|干部|权益|利益|和谐|稳定|凝聚力|向心力|吸引力|战斗力|号召力|影响力|创造力|成效|"
    r"效果|实效|成绩|氛围|积极性|主动性|创造性|作用|水平|能力|素质|基础|发展|大局|中心|社会|企业|劳动关系|满意|"
    r"欢迎|好评|认可|主力军|桥梁|纽带|工作|服务|合法|质量|效率|活力|健康|持续|全面|深入|广泛|普遍|明显|显著|良好|"
    r"积极|不断|各项|广大|共同|新的|更大|很好"
)
_FILLER = re.compile(r"[了的地得和与及并等着很较更加大好为在对中上下到之以其各项新]")
MAX_UNEXPLAINED_CHARS = 2
_BANNED_FIGURES = {FACT, LEXICON, PLACEHOLDER}
MIN_PHRASE_CHARS, MAX_PHRASE_CHARS = 5, 16


def open_index() -> ExampleIndex:
    """The index the current settings name, opened once per location and shared by the
    process's threads (the pipeline, the API's /v1/examples, the page's library)."""
    return _index_for(get_settings())


@lru_cache(maxsize=2)
def _index_for(settings: Settings) -> ExampleIndex:
    from drafting.retrieval.index import ExampleIndex

    return ExampleIndex.open(settings)


def reset_index_cache() -> None:
    _index_for.cache_clear()


def _unexplained(phrase: str, own_words: str) -> str:
    """What is left of `phrase` after effect words, genre words, filler and every character
    pair that also occurs in `own_words` (the section's heading and bullets)."""
    covered = bytearray(len(phrase))
    for pattern in (_EFFECT, _GENRE, _FILLER):
        for m in pattern.finditer(phrase):
            covered[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    for i in range(len(phrase) - 1):
        if phrase[i:i + 2] in own_words:
            covered[i:i + 2] = b"\x01\x01"
    return "".join(ch for ch, c in zip(phrase, covered) if not c)


def style_phrases(masked: str, own_words: str = "", limit: int = 3) -> list[str]:
    """Short set phrases of a masked example (`切实维护职工合法权益`, `取得了很好的成效`).

    Whole example sentences get copied by a small model, activities and all; clauses of a few
    words carry the register without a story to copy. Only effect and stance clauses are kept;
    clauses with an activity, a figure, a masked slot, a quotation or a title are left out, and
    so is any clause with more than a couple of characters that are neither genre vocabulary
    nor words of `own_words` (the section's heading and bullets).
    """
    phrases: list[str] = []
    for match in _CLAUSE.finditer(masked):
        phrase = _ENUMERATOR.sub("", match.group().strip())
        if not MIN_PHRASE_CHARS <= len(phrase) <= MAX_PHRASE_CHARS or "〔" in phrase or _QUOTED.search(phrase):
            continue
        if not _EFFECT.search(phrase) or _ACTIVITY.search(phrase) or _DEICTIC.search(phrase) or _LEAD_IN.match(phrase):
            continue
        if len(_unexplained(phrase, own_words)) > MAX_UNEXPLAINED_CHARS:
            continue
        if phrase in phrases or any(f.cls in _BANNED_FIGURES for f in extract(phrase)):
            continue
        phrases.append(phrase)
        if len(phrases) >= limit:
            break
    return phrases


def excluded_summaries(request: DraftRequest) -> tuple[str, ...]:
    """Past summaries a draft must not draw on: the evaluation drafts a case from the bullets of
    an indexed summary, which must not then retrieve that very summary (leave-one-out). Not an
    option of the HTTP API (its option model forbids unknown keys)."""
    return tuple(request.options.get("exclude_summaries") or ())


def owner_of(request: DraftRequest) -> str:
    """Whose uploaded past summaries this draft may use ("" only the shared ones). Set by the
    service from the signed-in user or API key, never from what a caller sends."""
    return str(request.options.get("owner") or "")


# sections.py topic labels → the planner's topic keys (the index labels its sections in Chinese).
TOPIC_KEYS = {"组织建设": "organise", "维权": "rights", "帮扶": "help", "劳动竞赛": "skills", "文体": "culture",
              "女职工": "women", "自身建设": "self", "中心工作": "centre"}
VOTE_NEIGHBOURS = 5


def topic_votes(text: str, exclude: tuple[str, ...] = ()) -> dict[str, float]:
    """The planner's topics of the past sections nearest to `text`, weighted by their scores
    (empty when there is no index): the labelled corpus votes on where a bullet belongs."""
    try:
        found = open_index().query(text, k=VOTE_NEIGHBOURS, kind="topic", exclude_summary_ids=exclude)
    except Exception as exc:  # the index is an aid: planning goes on with keywords alone
        log.warning("retrieval failed, planning by keywords: %s", exc)
        return {}
    votes: dict[str, float] = {}
    for example in found:
        if key := TOPIC_KEYS.get(example.topic):
            votes[key] = votes.get(key, 0.0) + max(example.score, 0.0)
    return votes


def votes_for(request: DraftRequest) -> Callable[[str], dict[str, float]]:
    """The neighbour votes the planner uses for this request's bullets."""
    exclude = excluded_summaries(request)
    return lambda text: topic_votes(text, exclude)


def find_examples(section: OutlineSection, request: DraftRequest, k: int) -> list[Any]:
    """The k past sections closest to this section's heading and bullets (empty without an index)."""
    if k <= 0:
        return []
    try:
        index = open_index()
        return index.query(
            section.heading + "\n" + "\n".join(section.facts), k=k,
            org_level=request.org, period=request.period, kind=section.kind,
            exclude_summary_ids=excluded_summaries(request), owner=owner_of(request),
        )
    except Exception as exc:  # the index is an aid: drafting goes on without it
        log.warning("retrieval failed, writing without examples: %s", exc)
        return []
