"""Stage 5 — check: the checker (`drafting.checker`, a package of its own with no settings or
request imports) bound to this installation — the user's word lists (`lexicon.txt`,
`claims.txt`) in the data directory, and a malformed one reported as the user's bad input."""
from __future__ import annotations

from collections.abc import Sequence

from drafting import checker
from drafting.checker.lexicon import LexiconError
from drafting.checker.report import CheckReport
from drafting.checker.vocabulary import Vocabulary, load_vocabulary
from drafting.config import get_settings
from drafting.flow.derive import stated_by_comparison
from drafting.flow.request import RequestError


def check(draft: str, facts: Sequence[str], fields: Sequence[str] = (), context: Sequence[str] = ()) -> CheckReport:
    """`drafting.checker.check` with the user's word lists; an earlier figure that a comparison
    computed by the service stands for in the draft is not reported missing (`derive`)."""
    try:
        report = checker.check(draft, facts, fields, context, user_dir=get_settings().data_dir)
    except LexiconError as exc:
        raise RequestError(str(exc)) from exc
    report.missing = [m for m in report.missing if not stated_by_comparison(m.fact, m.text, draft)]
    return report


def vocabulary() -> Vocabulary:
    """The claim vocabulary with the user's additions (what hygiene strikes as meta-text)."""
    try:
        return load_vocabulary(get_settings().data_dir)
    except LexiconError as exc:
        raise RequestError(str(exc)) from exc
