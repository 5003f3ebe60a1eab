"""Step 4 — the whole check of a draft against the user's bullets and request fields."""
from __future__ import annotations

from typing import Sequence

from drafting.figures.extract import extract_with
from drafting.figures.lexicon import load_lexicon
from drafting.figures.match import ERROR, WARN, InputIndex, draft_keys, is_present, judge
from drafting.figures.model import FACT, PLACEHOLDER, SOFT
from drafting.figures.report import CheckReport, Finding, Missing

_PLACEHOLDER_REASON = "占位符（如 20xx、xx名、**），须换成实际内容或删去"


def check(draft: str, facts: Sequence[str], fields: Sequence[str] = ()) -> CheckReport:
    """Check every figure in `draft` against `facts` (the bullets) and `fields` (org, period, year)."""
    lexicon = load_lexicon()
    index = InputIndex(facts, fields, lexicon)
    figures = list(extract_with(draft, lexicon))
    report = CheckReport(figures=figures)
    for f in figures:
        if f.cls == PLACEHOLDER:
            if f.text.lower() not in index.placeholders:
                report.unsupported.append(Finding(f.text, f.start, f.end, _PLACEHOLDER_REASON, f.cls))
            continue
        if f.cls not in (FACT, SOFT):
            continue
        verdict = judge(f, draft, index)
        if verdict.status not in (ERROR, WARN):
            continue
        src = verdict.source
        finding = Finding(f.text, f.start, f.end, verdict.reason, f.cls,
                          src.figure.text if src else "", src.fact if src else "")
        (report.unsupported if verdict.status == ERROR else report.warnings).append(finding)
    keys, bare_values = draft_keys(figures)
    seen: set[tuple[str, str]] = set()
    for src in index.fact_sources:
        item = (src.figure.text, src.fact)
        if item not in seen and not is_present(src, keys, bare_values):
            seen.add(item)
            report.missing.append(Missing(*item))
    return report
