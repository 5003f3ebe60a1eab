"""The defects a reader of a draft would mark, counted per draft (evals.run puts them in
cases.jsonl and summary.json for the pipeline and the baseline alike):

- ungrounded_claims — clauses stating work no bullet holds (the checker's `claims`, meta left out);
- leaked_text — prompt words, role text, meta-text, source notes (the checker's `meta` claims,
  and any run of 8 characters from the prompt templates' instructions);
- misplaced_bullets — a bullet clearly under the wrong heading (see `misplaced`); beside it,
  how often the outline groups bullets as the reference's author did (`placement_agreement`);
- duplicated_statements — a sentence that says again what an earlier one said;
- cut_off_sentences — a sentence that stops before its predicate (…在业主新增100米开挖任务下。);
- filler_sentences — a sentence with no bullet content, only boilerplate;
- lost_bullets — a bullet the body does not state (its figures may be checked, but a bullet
  without figures can vanish unnoticed: an empty section, a repair that dropped it);
- lost_clauses — a clause of a stated bullet that the body does not say (为女职工办法律和健康专题
  讲座 gone while 报送信息两篇 of the same bullet stays: the bullet still counts as stated);
- vague_quantities — a vague quantity no bullet uses (举办了多次培训 where the bullet says
  办一次): the checker only warns of it, so a draft can carry it;
- invented_effects — an effect or evaluation no bullet holds (…培训，确保了资金的合理使用和
  透明度; the checker's `effects`), other than the genre phrases the pipeline attached itself;
and their sum, `defects`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from drafting.checker import VAGUE_REASON, check
from drafting.checker.clauses import bigrams, sentence_spans
from drafting.config import PROMPTS_DIR
from drafting.flow.hygiene import (
    CUT_OFF,
    content_grams,
    repeats,
    says_nothing,
    signature,
    stated,
    states,
    unsaid_clauses,
)
from drafting.flow.plan import TOPICS, classify_fact
from drafting.headings import LEVEL1

DEFECT_KEYS = ("ungrounded_claims", "leaked_text", "misplaced_bullets", "duplicated_statements",
               "cut_off_sentences", "filler_sentences", "lost_bullets", "lost_clauses", "vague_quantities",
               "invented_effects")
LEAK_CHARS = 8


@lru_cache(maxsize=1)
def prompt_runs() -> frozenset[str]:
    """Every run of LEAK_CHARS characters of the prompt templates' instruction text (the
    `$name` slots and the frame's own sentences, which the draft is meant to carry, left out)."""
    runs: set[str] = set()
    for path in PROMPTS_DIR.glob("*.txt"):
        if path.stem in ("frame", "prefill"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("###"):
                continue
            for piece in re.split(r"\$\w+|[，。；：、“”（）()\s\d.]", line):
                runs.update(piece[i:i + LEAK_CHARS] for i in range(len(piece) - LEAK_CHARS + 1))
    return frozenset(runs)


def body_sentences(text: str) -> list[tuple[int, int]]:
    """Sentences of the body: the title, the opening (everything before the first 一、 heading),
    the headings and the closing line (the last one, after the last section) left out."""
    lines = text.split("\n")
    first = next((n for n, line in enumerate(lines) if LEVEL1.match(line)), None)
    if first is None:
        return list(sentence_spans(text, len(lines[0]) + 1 if len(lines) > 1 else 0))
    last = max(n for n, line in enumerate(lines) if line.strip())
    spans, pos = [], 0
    for n, line in enumerate(lines):
        end = pos + len(line)
        if first < n < last and line.strip() and not LEVEL1.match(line):
            spans += list(sentence_spans(text, pos, end))
        pos = end + 1
    return spans


def _leaks(text: str, facts: Sequence[str]) -> list[str]:
    """Stretches of the draft that repeat the prompt's instruction text (runs merged)."""
    runs, joined = prompt_runs(), "\n".join(facts)
    hit = [False] * len(text)
    for i in range(len(text) - LEAK_CHARS + 1):
        piece = text[i:i + LEAK_CHARS]
        if piece in runs and piece not in joined:
            hit[i:i + LEAK_CHARS] = [True] * LEAK_CHARS
    return [m.group() for m in re.finditer(r"[^\x00]+", "".join(ch if h else "\x00" for ch, h in zip(text, hit)))]


def body_text(text: str) -> str:
    """The sentences of the body, joined (title, opening, headings and closing left out)."""
    return "".join(text[s:e] for s, e in body_sentences(text))


def sections_of(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each 一、 section."""
    out: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        if m := LEVEL1.match(line):
            out.append((m.group(2), []))
        elif out and line.strip():
            out[-1][1].append(line)
    return [(h, "\n".join(body)) for h, body in out]


_HEADING_TOPIC = {t.heading: t.key for t in TOPICS}


def heading_topic(heading: str) -> str:
    return _HEADING_TOPIC.get(heading) or classify_fact(heading)


def _kind(label: str) -> str:
    return label if label in ("plan", "problems") else "done"


def placements(text: str, facts: Sequence[str]) -> list[str | None]:
    """The topic of the section each bullet is stated in (the section whose body shares most of
    the bullet's character bigrams; None when no section clearly states it)."""
    sections = [(heading_topic(h), bigrams(body)) for h, body in sections_of(text)]
    out: list[str | None] = []
    for fact in facts:
        grams = bigrams(re.sub(r"\s", "", fact))
        if not sections or not grams:
            out.append(None)
            continue
        topic, overlap = max(((t, len(grams & g)) for t, g in sections), key=lambda x: x[1])
        out.append(topic if stated(grams, overlap) else None)
    return out


def misplaced(text: str, facts: Sequence[str], labels: Sequence[str | None]) -> list[str]:
    """Bullets clearly under the wrong heading: finished work under the plan or a plan under done
    work (the reference's section kind says which), or a topic that both the reference's own
    grouping and the bullet's own words (the planner's keywords, without retrieval) give
    differently from the heading it stands under. Where the reference groups a bullet one way
    and its words point another (走访慰问困难职工 under a 维权 heading), either heading is accepted."""
    wrong = []
    for fact, label, placed in zip(facts, labels, placements(text, facts)):
        if label is None or placed is None:
            continue
        if _kind(label) != _kind(placed) or (_kind(label) == "done" and placed != label and classify_fact(fact) == label):
            wrong.append(fact)
    return wrong


def placement_agreement(text: str, facts: Sequence[str], labels: Sequence[str | None]) -> tuple[int, int]:
    """(bullets under the same topic as in the reference, bullets compared): how often the
    outline groups bullets as the original author did (one acceptable grouping of several)."""
    pairs = [(label, placed) for label, placed in zip(labels, placements(text, facts))
             if label is not None and placed is not None]
    return sum(1 for label, placed in pairs if label == placed), len(pairs)


def defects(text: str, facts: Sequence[str], report: Mapping[str, Any], labels: Sequence[str | None] = (),
            fields: Sequence[str] = (), attached: Sequence[str] = ()) -> dict[str, Any]:
    """Every defect of one draft, with examples (the counts are what summary.json adds up).
    `attached` are the genre phrases the pipeline closed paragraphs with (not the model's)."""
    claims = report.get("claims", [])
    leaked = [c["text"] for c in claims if c.get("kind") == "meta"]
    leaked += [leak for leak in _leaks(text, facts) if not any(leak in meta for meta in leaked)]
    fact_grams = content_grams("\n".join(facts))
    context_grams = content_grams("\n".join([*fields, *(h for h, _ in sections_of(text))]))
    body = body_text(text)
    spans = body_sentences(text)
    sentences = [text[s:e] for s, e in spans]
    duplicated, cut_off, filler = [], [], []
    seen: list[tuple[set[str], set[str]]] = []
    for sentence in sentences:
        if repeats(sentence, seen):
            duplicated.append(sentence)
        seen.append(signature(sentence))
        if CUT_OFF.search(sentence.strip()):
            cut_off.append(sentence)
        if says_nothing(sentence, fact_grams, context_grams) \
                and not any(c.get("kind") != "meta" and sentence.find(c["text"]) >= 0 for c in claims):
            filler.append(sentence)
    found = {
        "ungrounded_claims": [c["text"] for c in claims if c.get("kind") != "meta"],
        "leaked_text": sorted(set(leaked)),
        "misplaced_bullets": misplaced(text, facts, labels) if labels else [],
        "duplicated_statements": duplicated,
        "cut_off_sentences": cut_off,
        "filler_sentences": filler,
        "lost_bullets": [f for f in facts if not states(body, f)],
        "lost_clauses": [c for f in facts if states(body, f) for c in unsaid_clauses(body, f)],
        "vague_quantities": [w["text"] for w in report.get("warnings", []) if w.get("reason") == VAGUE_REASON],
        "invented_effects": [e.text for e in check(text, facts, fields).effects
                             if any(s <= e.start < end for s, end in spans)
                             and not any(e.text in phrase for phrase in attached)],
    }
    counts = {key: len(found[key]) for key in DEFECT_KEYS}
    agreeing, compared = placement_agreement(text, facts, labels) if labels else (0, 0)
    return {**counts, "defects": sum(counts.values()), "defect_examples": found,
            "placement_agreeing": agreeing, "placement_compared": compared}
