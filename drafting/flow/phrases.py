"""The phrase bank: genre phrases of effect and stance from the retrieved past sections, attached
by the pipeline rather than offered to the model.

A small model that is shown 切实维护职工合法权益 as a phrase to borrow writes the work that
phrase implies into the draft; placed by code, the phrase only gives the paragraph the close
that past summaries of the same topic, level and period give theirs. Each paragraph gets at most
one phrase, as its closing clause; a phrase is used once per draft, and one that would make the
paragraph fail its check is skipped, and so is one that says again what the paragraph's last
sentence says (…增强了工会组织凝聚力，不断突显工会凝聚力和影响力).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from drafting.flow.hygiene import content_grams

_SENTENCE_END = "。！？"
_SENTENCE_BREAK = re.compile(r"[。！？；]")
_EVERYWHERE = frozenset({"工会", "职工"})  # bigrams any union sentence has
ECHO_GRAMS = 2  # a phrase sharing this many other bigrams with the last sentence restates it


@dataclass
class PhraseBank:
    """The phrases a draft has used so far (one draft, all its sections)."""

    used: set[str] = field(default_factory=set)

    def offer(self, candidates: Iterable[str]) -> PhraseOffer:
        return PhraseOffer([c for c in dict.fromkeys(candidates) if c], self)


@dataclass
class PhraseOffer:
    """One section's candidates (best first), drawn from its retrieved examples."""

    candidates: list[str]
    bank: PhraseBank

    def attach(self, text: str, problems: Callable[[str], int]) -> tuple[str, list[str]]:
        """`text` with a phrase closing each paragraph that has none yet, and the phrases used.
        `problems` counts a text's check problems: a phrase must not add one."""
        paragraphs = text.split("\n")
        attached: list[str] = []
        baseline = problems(text)
        for i, paragraph in enumerate(paragraphs):
            if not paragraph or paragraph[-1] not in _SENTENCE_END:
                continue
            last = content_grams(_SENTENCE_BREAK.split(paragraph[:-1])[-1]) - _EVERYWHERE
            for phrase in self.candidates:
                if phrase in self.bank.used or phrase in text or len(content_grams(phrase) & last) >= ECHO_GRAMS:
                    continue
                trial = [*paragraphs[:i], f"{paragraph[:-1]}，{phrase}{paragraph[-1]}", *paragraphs[i + 1:]]
                if problems("\n".join(trial)) <= baseline:
                    paragraphs = trial
                    self.bank.used.add(phrase)
                    attached.append(phrase)
                    break
        return "\n".join(paragraphs), attached
