"""The relation check: a figure is held to the fact it belongs to, not only to its value.

The bullets are cut into *fact units*: within a sentence, each clause that carries a figure,
together with the clauses before it that carry none (they usually hold the subject and the
activity: 到武警医院等工伤定点医院探视，上半年共探视82名员工); figureless clauses after the last
figure form a unit of their own. A draft figure whose value the input holds is then judged by
the words around it — its own clause first, then that clause with the figureless clauses before
it in the sentence. When another unit, one that does not hold the value, covers those words
clearly better than every unit that does, the figure has been moved onto another bullet's fact
(张冠李戴) and is reported with the bullet it came from.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from drafting.checker.clauses import FULL_SENTENCE, CharWeights, bigrams, clause_spans, coverage, sentence_spans
from drafting.checker.match import InputIndex, Source, implied_keys
from drafting.checker.model import FACT, Figure, Key
from drafting.checker.report import Finding

MIN_WEIGHT = 6.0  # less than about two specific characters of context says nothing
OWN_OK = 0.5  # the figure's own clause this well covered by a unit holding the value: fine
OTHER_MIN = 0.6  # another unit must cover the context at least this well …
MARGIN = 0.3  # … and this much better than the best unit holding the value
_BLANK = "\x00"


@dataclass(frozen=True)
class Unit:
    start: int
    end: int
    keys: frozenset[Key]
    sources: tuple[Source, ...]


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in spans:
        chars[s:e] = _BLANK * (e - s)
    return "".join(chars)


class Relations:
    """The fact units of the bullets, and the bullet sentences they make up, the sentences
    indexed by the character bigrams of their (figure- and boilerplate-blanked) text."""

    def __init__(self, index: InputIndex, free_spans: list[tuple[int, int]], weights: CharWeights) -> None:
        self.raw = text = index.joined
        self.weights = weights
        by_start: dict[int, list[Source]] = defaultdict(list)
        for src in index.fact_sources:
            by_start[src.figure.start].append(src)
        starts = sorted(by_start)
        self.units: list[Unit] = []
        self.sentences: list[Unit] = []
        for s, e in sentence_spans(text, pattern=FULL_SENTENCE):  # 要求…；要求… is one fact
            first, pending = len(self.units), None
            for cs, ce in clause_spans(text, s, e):
                inside = [src for p in starts[bisect_left(starts, cs):bisect_left(starts, ce)] for src in by_start[p]]
                pending = cs if pending is None else pending
                if inside:
                    keys = frozenset(k for src in inside for k in implied_keys(src.figure))
                    self.units.append(Unit(pending, ce, keys, tuple(inside)))
                    pending = None
            if pending is not None:
                self.units.append(Unit(pending, e, frozenset(), ()))
            mine = self.units[first:]
            self.sentences.append(Unit(s, e, frozenset(k for u in mine for k in u.keys),
                                       tuple(src for u in mine for src in u.sources)))
        figure_spans = [(src.figure.start, src.figure.end) for src in index.fact_sources]
        self.blanked = _blank(text, figure_spans + free_spans)
        self.units_by_key: dict[Key, list[Unit]] = defaultdict(list)
        for unit in self.units:
            for key in unit.keys:
                self.units_by_key[key].append(unit)
        self.by_key: dict[Key, list[int]] = defaultdict(list)
        for i, sentence in enumerate(self.sentences):
            for key in sentence.keys:
                self.by_key[key].append(i)
        self._grams: dict[str, list[int]] | None = None
        self._unit_cache: dict[int, set[str]] = {}

    @property
    def grams(self) -> dict[str, list[int]]:
        """Bullet sentences by bigram; built when first needed (most figures never need it)."""
        if self._grams is None:
            self._grams = defaultdict(list)
            blanked = self.blanked
            for i, sentence in enumerate(self.sentences):
                for gram in bigrams(blanked[sentence.start:sentence.end]):
                    if _BLANK not in gram:
                        self._grams[gram].append(i)
        return self._grams

    def _unit_grams(self, unit: Unit) -> set[str]:
        if (grams := self._unit_cache.get(unit.start)) is None:
            grams = self._unit_cache[unit.start] = {
                g for g in bigrams(self.blanked[unit.start:unit.end]) if _BLANK not in g}
        return grams

    def cover(self, context: str, weights: list[float]) -> dict[int, float]:
        """Per bullet sentence, the weight of the context characters it covers."""
        marks: dict[int, set[int]] = defaultdict(set)
        grams = self.grams
        for i in range(len(context) - 1):
            for u in grams.get(context[i:i + 2], ()):
                marks[u].update((i, i + 1))
        return {u: sum(weights[i] for i in pos) for u, pos in marks.items()}

    def judge(self, figure: Figure, draft: str, masked: str, weights: list[float],
              clauses: list[tuple[int, int, bool]], starts: list[int]) -> Finding | None:
        """A finding when `figure` (supported by value) sits on another bullet sentence's fact."""
        if figure.key is None or not (own := self.by_key.get(figure.key, [])):
            return None
        key = figure.key
        n = bisect_right(starts, figure.start) - 1
        if n < 0 or not clauses[n][0] <= figure.start < clauses[n][1]:
            return None
        cs, ce, _ = clauses[n]
        total = sum(weights[cs:ce])
        if total >= MIN_WEIGHT and max(coverage(masked[cs:ce], self._unit_grams(u), weights[cs:ce])[0]
                                       for u in self.units_by_key[key]) >= OWN_OK * total:
            return None
        group_start = cs
        while n > 0 and not clauses[n - 1][2] and _same_sentence(draft, clauses[n - 1][1], group_start):
            n -= 1
            group_start = clauses[n][0]
        total = sum(weights[group_start:ce])
        if total < MIN_WEIGHT:
            return None
        hits = self.cover(masked[group_start:ce], weights[group_start:ce])
        own_best = max(own, key=lambda i: hits.get(i, 0.0))
        others = [i for i in hits if i not in own]
        if not others:
            return None
        other_best = max(others, key=lambda i: hits[i])
        own_share, other_share = hits.get(own_best, 0.0) / total, hits[other_best] / total
        if other_share < OTHER_MIN or other_share - own_share < MARGIN:
            return None
        sources = self.sentences[own_best].sources
        src = next((x for x in sources if key in implied_keys(x.figure)), sources[0])
        other = self.sentences[other_best]
        reason = (f"“{figure.text}”出自要点“{_clip(src.fact)}”，这里却写在另一件事上"
                  f"（要点“{_clip(self.raw[other.start:other.end])}”）")
        return Finding(figure.text, figure.start, figure.end, reason, FACT, src.figure.text, src.fact, misattributed=True)


def _same_sentence(draft: str, end: int, start: int) -> bool:
    return not any(ch in "。！？；;!?\n" for ch in draft[end:start])


def _clip(text: str, limit: int = 30) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def misattributed(draft: str, figures: list[Figure], supported: list[Figure], relations: Relations,
                  free_spans: list[tuple[int, int]]) -> list[Finding]:
    """Findings for the `supported` FACT figures of `draft` that sit on another bullet's fact."""
    if not supported or not relations.sentences:
        return []
    masked = _blank(draft, [(f.start, f.end) for f in figures] + free_spans)
    weights = relations.weights.of(masked)
    figure_starts = sorted(f.start for f in figures if f.cls == FACT)
    clauses = []
    for s, e in sentence_spans(draft):
        for cs, ce in clause_spans(draft, s, e):
            i = bisect_left(figure_starts, cs)
            clauses.append((cs, ce, i < len(figure_starts) and figure_starts[i] < ce))
    starts = [c[0] for c in clauses]
    found = []
    for figure in supported:
        if (finding := relations.judge(figure, draft, masked, weights, clauses, starts)) is not None:
            found.append(finding)
    return found
