"""The figure checker: every figure in a draft traced to the user's bullets, or flagged.

    report = check(draft, facts, fields=["某某街道总工会", "上半年", "2024年"])
    report.ok, report.to_dict(), report.summary_zh()

Steps, one module each: `extract` (numeric expressions with offsets) → `classify`
(FACT/STRUCTURE/LEXICON/SOFT/PLACEHOLDER, with the allow-list in `lexicon`) → `match`
(support against the input) → `check` (the report). `normalize` holds the value, unit and
hedge tables they share.
"""
from drafting.checker.check import check
from drafting.checker.extract import extract
from drafting.checker.match import VAGUE_REASON
from drafting.checker.model import FACT, LEXICON, PLACEHOLDER, SOFT, STRUCTURE, Figure
from drafting.checker.report import CheckReport, Finding, Missing

__all__ = [
    "FACT", "LEXICON", "PLACEHOLDER", "SOFT", "STRUCTURE", "VAGUE_REASON",
    "CheckReport", "Figure", "Finding", "Missing", "check", "extract",
]
