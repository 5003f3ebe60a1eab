"""Step 4 — the whole check of a draft against the user's bullets and request fields: figures
(values, then the facts they sit on) and claims."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from drafting.checker.claims import ClaimChecker, heading_spans
from drafting.checker.clauses import char_weights
from drafting.checker.extract import extract_with
from drafting.checker.lexicon import load_lexicon
from drafting.checker.match import ERROR, WARN, InputIndex, Source, draft_keys, is_present, judge, unclaimed
from drafting.checker.model import FACT, PLACEHOLDER, SOFT, Figure
from drafting.checker.relations import Relations, misattributed
from drafting.checker.report import CheckReport, Finding, Missing
from drafting.checker.vocabulary import Vocabulary, load_vocabulary


def _free_spans(vocabulary: Vocabulary, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in vocabulary.free.finditer(text)] if vocabulary.free is not None else []

_PLACEHOLDER_REASON = "占位符（如 20xx、xx名、**），须换成实际内容或删去"


def check(draft: str, facts: Sequence[str], fields: Sequence[str] = (), context: Sequence[str] = (),
          user_dir: Path | None = None) -> CheckReport:
    """Check `draft` against `facts` (the bullets) and `fields` (org, period, year): every figure,
    the fact each figure is stated on, and the work each clause claims. `context` is text the
    draft may restate without it being a claim (the outline's headings); `user_dir` holds the
    user's own word lists (`lexicon.txt`, `claims.txt`), if any."""
    lexicon = load_lexicon(user_dir)
    vocabulary = load_vocabulary(user_dir)
    weights = char_weights()
    index = InputIndex(facts, fields, lexicon)
    figures = list(extract_with(draft, lexicon))
    report = CheckReport(figures=figures)
    supported: list[Figure] = []
    for f in figures:
        if f.cls == PLACEHOLDER:
            if f.text.lower() not in index.placeholders:
                report.unsupported.append(Finding(f.text, f.start, f.end, _PLACEHOLDER_REASON, f.cls))
            continue
        if f.cls not in (FACT, SOFT):
            continue
        verdict = judge(f, draft, index)
        if verdict.status not in (ERROR, WARN):
            if f.cls == FACT and verdict.source is not None and not verdict.source.from_field:
                supported.append(f)
            continue
        src = verdict.source
        finding = Finding(f.text, f.start, f.end, verdict.reason, f.cls,
                          src.figure.text if src else "", src.fact if src else "")
        (report.unsupported if verdict.status == ERROR else report.warnings).append(finding)
    relations = Relations(index, _free_spans(vocabulary, index.joined), weights)
    report.unsupported += misattributed(draft, figures, supported, relations, _free_spans(vocabulary, draft))
    report.unsupported.sort(key=lambda u: u.start)
    headings = [draft[s:e] for s, e in heading_spans(draft)]
    claims = ClaimChecker([*facts, *fields, *context, *headings], vocabulary, lexicon, weights)
    misplaced = {(u.start, u.end) for u in report.unsupported}
    report.claims = claims.check(draft, figures, fields, [f for f in supported if (f.start, f.end) not in misplaced])
    report.work_clauses = claims.work_clauses
    report.effects = claims.effects(draft, figures)
    keys, bare_values = draft_keys(figures)
    seen: set[tuple[str, str, int]] = set()  # a bullet given twice counts once; two 85% in one bullet twice
    absent: list[Source] = []
    present: list[Source] = []
    for src in index.fact_sources:
        item = (src.figure.text, src.fact, src.figure.start - src.offset)
        if item in seen:
            continue
        seen.add(item)
        (present if is_present(src, keys, bare_values) else absent).append(src)
    absent += unclaimed(present, figures, draft, index)
    report.missing = [Missing(s.figure.text, s.fact, s.figure.start - s.offset) for s in sorted(absent, key=lambda s: s.figure.start)]
    return report
