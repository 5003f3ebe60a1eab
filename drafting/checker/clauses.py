"""Sentences, clauses and character weights: the units the relation and claim checks compare.

A *sentence* ends at 。！？； or a line break; a *clause* at ，,：: inside it. Texts are compared
by character coverage: a character of one text is covered by another when one of the two
bigrams it belongs to occurs there (so a paraphrase that keeps the words but changes their
order still matches, while the junction of two unrelated words does not count against it).
Characters are weighted by their rarity in past summaries (`char_weights.tsv`), so 职/工/会
count little and 辐/照/消/杀 much; function characters count nothing.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

WEIGHTS_PATH = Path(__file__).resolve().parent / "data" / "char_weights.tsv"
SENTENCE = re.compile(r"[^。！？；;!?\n]+[。！？；;!?”」』]*")
FULL_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?”」』]*")  # ；-joined parts stay together
CLAUSE = re.compile(r"[^，,：:；;]+")
# Characters that carry no content of their own.
STOP_CHARS = frozenset("的地得了着过和与及或并而且其之也都又还就所即已均使把将被对为以于从向由在是这那此该我们你他她它个")
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z]")


class CharWeights:
    """Rarity weight of each character: log(N / (df + 1)) over the sentences of past summaries;
    0 for function characters, punctuation and digits."""

    def __init__(self, weight: dict[str, float], unseen: float) -> None:
        self.unseen = unseen
        self._table = {ch: w for ch, w in weight.items() if ch not in STOP_CHARS and _CONTENT.match(ch)}

    def __call__(self, ch: str) -> float:
        w = self._table.get(ch)
        if w is None:
            w = self._table[ch] = 0.0 if ch in STOP_CHARS or not _CONTENT.match(ch) else self.unseen
        return w

    def of(self, text: str, skip: Sequence[bool] | None = None) -> list[float]:
        """The weight of every character of `text` (0 where `skip` is set)."""
        table = self._table
        out = [table[ch] if ch in table else self(ch) for ch in text]
        if skip is not None:
            out = [0.0 if k else w for w, k in zip(out, skip)]
        return out


@lru_cache(maxsize=1)
def char_weights(path: Path = WEIGHTS_PATH) -> CharWeights:
    lines = path.read_text(encoding="utf-8").splitlines()
    n = int(lines[0].split("\t")[1])
    weight = {}
    for line in lines[1:]:
        ch, df = line.split("\t")
        weight[ch] = math.log((n + 1) / (int(df) + 1))
    return CharWeights(weight, math.log(n + 1))


def sentence_spans(text: str, start: int = 0, end: int | None = None,
                   pattern: re.Pattern[str] = SENTENCE) -> Iterator[tuple[int, int]]:
    for m in pattern.finditer(text, start, len(text) if end is None else end):
        yield m.span()


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clauses of text[start:end], trailing sentence punctuation left out."""
    spans = []
    for m in CLAUSE.finditer(text, start, end):
        s, e = m.span()
        while e > s and text[e - 1] in "。！？；;!?”」』 ":
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def coverage(text: str, grams: set[str] | frozenset[str], weights: Sequence[float]) -> tuple[float, float]:
    """(weight of the characters of `text` covered by `grams`, weight of all of them), with
    `weights` the characters' weights (0 for those that should count neither way)."""
    total = sum(weights)
    if not total:
        return 0.0, 0.0
    hit = 0.0
    last = -1  # the last index already counted
    for i in range(len(text) - 1):
        if text[i:i + 2] in grams:
            if i > last:
                hit += weights[i]
            hit += weights[i + 1]
            last = i + 1
    return hit, total
