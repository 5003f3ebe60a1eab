"""Stages 5–6 — check and repair one section.

A section is checked against its own bullets (plus the request fields and its heading).
Problems are the unsupported or misattributed figures, the FACT warnings (a hedge dropped or
added, 人 for 人次) and the claims no bullet grounds (invented work, prompt text). First the
clauses that carry them are dropped: when what is left is clean and still states every bullet
the text stated, that is the repair, with no model call (most problems are an invented clause
of effect or a figure tacked onto a sentence that is sound without it). When what is left is
clean but lost some bullet material with the dropped clauses, a deterministic fallback puts
that material back from the bullets, where the dropped sentence stood; again no model call (a
re-ask of the whole part cost 7–11 s and was refused in 3 of 4 held-out cases since a repair
may not leave out any clause of a bullet). Only when dropping would leave a stub or a problem
is the model re-asked with the spans named, a bounded number of times, before that fallback.
The fallback text is built from the bullets themselves, so the final section never carries an
unsupported figure and never leaves a bullet out.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Any

from drafting.checker import FACT, VAGUE_REASON, CheckReport, Finding, Missing
from drafting.flow.check import check
from drafting.flow.events import Event, SectionChecked, SectionRepaired
from drafting.flow.hygiene import (
    SAID_SHARE,
    bullet_clauses,
    clean_paragraph,
    content_grams,
    says,
    states,
    unsaid_clauses,
)
from drafting.flow.plan import OutlineSection
from drafting.flow.write import finish_paragraph, repair_prompt
from drafting.model.llm import LLMClient

MAX_MODEL_REPAIRS = 1
MIN_KEPT_CHARS = 16
MAX_DROPPED_BULLET_GRAMS = 3  # bigrams of the bullets that a drop may take with the problem
MIN_PARTIAL_CHARS = 4  # the shortest part of a bullet clause that `complete_in_place` builds on
MIN_SHARED_GRAMS = 3  # bigrams a kept sentence shares with a bullet to take that bullet's left-out clause after it
MIDDLE_SHARE = 0.6  # …or, found inside the clause rather than at one end, the share of it
_SENTENCE = re.compile(r"[^。！？；]+[。！？；”]*")
_CLAUSE = re.compile(r"[^，,；;]+")
_PIECE = re.compile(r"[^，,；;：:]+")  # a clause, or the part of one before or after its colon
_TEXT_CLAUSE = re.compile(r"[^，,；;。：:！？!?\n]+")
_BULLET_ITEM = re.compile(r"[^；;。]+")
_CLAUSE_ENDS = "，,；;。：:！？!?\n"
_FILLER = "共了"  # words a draft adds inside a bullet's wording (参赛企业共10家, 完成了…)
_TRAILING_PUNCT = re.compile(r"[，,；;。.！!？?、\s]+$")
_JOINER = re.compile(r"^(?:并且|而且|并)(?=[\u4e00-\u9fff]{2})")
_MEANS = re.compile(r"通过(?=[开组举召建发评参深积广加推实])")  # 通过 + the work it is done by


@dataclass
class SectionCheck:
    text: str
    report: CheckReport
    attempts: list[dict[str, Any]] = field(default_factory=list)  # what each repair did

    @property
    def repaired(self) -> bool:
        return bool(self.attempts)


def problems_of(report: CheckReport) -> list[tuple[int, int, str, str]]:
    """(start, end, text, reason) of every unsupported or misattributed figure, FACT warning and
    ungrounded claim."""
    found = [(u.start, u.end, u.text, u.reason) for u in report.unsupported]
    found += [(w.start, w.end, w.text, w.reason) for w in report.warnings if w.cls == FACT]
    found += [(c.start, c.end, c.text, c.reason) for c in report.claims]
    return sorted(found)


def is_clean(report: CheckReport) -> bool:
    return not problems_of(report) and not report.missing


def check_section(text: str, section: OutlineSection, fields: list[str]) -> CheckReport:
    """A section against its own bullets; its heading may be restated."""
    return check(text, section.facts, fields=fields, context=[section.heading])


def bullet_sentence(fact: str) -> str:
    """A bullet as a plain sentence (the deterministic fallback); its figures are the input's own."""
    return _TRAILING_PUNCT.sub("", fact.strip()) + "。"


def _holds(clause: re.Match[str], fig: Missing) -> bool:
    """Whether a clause of a bullet (a match in the bullet's text) holds missed figure `fig`: of
    two clauses with the same figure, the one it was missed in."""
    return fig.text in clause.group() and (fig.at < 0 or clause.start() <= fig.at < clause.end())


def missing_clauses(fact: str, figures: list[Missing]) -> str:
    """The clauses of a bullet that hold its missing figures (the whole bullet if one is not
    found), so that a restatement does not repeat what the section already says."""
    clauses = [m for m in _CLAUSE.finditer(fact) if m.group().strip()]
    wanted = [c for c in clauses if any(_holds(c, fig) for fig in figures)]
    if not all(any(_holds(c, fig) for c in wanted) for fig in figures):
        return fact
    return "，".join(c.group() for c in wanted)


def drop_problem_clauses(text: str, report: CheckReport) -> str:
    """Remove the clauses that carry a problem; a sentence whose first clause carries one goes
    whole (what is left would have lost its subject), and so does a clause opening with 其中
    right after a removed one; one opening with 并/并且/而且 there loses that word (按照…的要求，
    并成功创建了… read as a broken sentence), and a kept clause whose 通过… frame led into a
    removed one loses its 通过 (…工会通过开展献计献策活动，[为辖区…建议]). A sentence keeps its
    other clauses, so a bullet stated in the same sentence as an invented figure is not lost
    with it."""
    return "".join(kept for _, kept in kept_sentences(text, report))


def kept_sentences(text: str, report: CheckReport) -> list[tuple[str, str]]:
    """Each sentence of `text` beside what `drop_problem_clauses` keeps of it ("" when it goes)."""
    spans = [(start, end) for start, end, _, _ in problems_of(report)]

    def hit(start: int, end: int) -> bool:
        return any(s < end and e > start for s, e in spans)

    out: list[tuple[str, str]] = []
    for sentence in _SENTENCE.finditer(text):
        body = sentence.group()
        if not hit(*sentence.span()):
            out.append((body, body))
            continue
        core = body.rstrip("。！？；”")
        ending = body[len(core):] or "。"
        clauses = list(_CLAUSE.finditer(core))
        offset = sentence.start()
        if not clauses or hit(clauses[0].start() + offset, clauses[0].end() + offset):
            out.append((body, ""))
            continue
        parts: list[str] = []
        dropped = False
        for clause in clauses:
            if hit(clause.start() + offset, clause.end() + offset) or (dropped and clause.group().startswith("其中")):
                if parts and not dropped:
                    parts[-1] = _MEANS.sub("", parts[-1], count=1)
                dropped = True
                continue
            parts.append(_JOINER.sub("", clause.group()) if dropped else clause.group())
            dropped = False
        out.append((body, "，".join(parts) + ending))
    return out


def vague_words(report: CheckReport) -> list[Finding]:
    """The vague quantities (多次, 一系列) the checker found that no bullet uses."""
    return [w for w in report.warnings if w.reason == VAGUE_REASON]


def strike_vague(text: str, report: CheckReport) -> str:
    """`text` without the vague quantities the bullets never use (举办了多次…培训 where the bullet
    says 办一次: 举办了…培训), with a 的 right after one (开展了一系列的活动 → 开展了活动). The
    word says how much, not what was done, so the sentence stays whole and states its work."""
    spans = sorted((w.start, w.end) for w in vague_words(report))
    pieces, at = [], 0
    for start, end in spans:
        pieces.append(text[at:start])
        at = end + 1 if text[end:end + 1] == "的" else end
    return "".join(pieces) + text[at:]


def taken_words(before: str, after: str, bullet_grams: set[str]) -> set[str]:
    """The bullets' bigrams (`bullet_grams`) that `before` had and `after` no longer has."""
    return (content_grams(before) - content_grams(after)) & bullet_grams


def strike_effects(text: str, report: CheckReport, section: OutlineSection, fields: list[str]) -> str:
    """`text` without the effects and evaluations no bullet holds (…干部培训，[提高了我们的业务
    能力和决策水平]), dropped as problem clauses are. The prompt forbids them, and the small
    model adds them to fill length; the paragraph's close is the phrase bank's, taken from past
    summaries. Nothing is struck when that would leave a stub or lose a bullet's words."""
    if not report.effects:
        return text
    struck = without_problems(text, CheckReport(claims=report.effects), section, fields)
    if len(struck) < MIN_KEPT_CHARS or taken_words(text, struck, content_grams("\n".join(section.facts))):
        return text
    return struck


def without_problems(text: str, report: CheckReport, section: OutlineSection, fields: list[str]) -> str:
    """`text` with its problem clauses dropped and the result cleaned (no stub sentence left)."""
    return clean_paragraph(drop_problem_clauses(text, report), section.facts, [section.heading, *fields])


@dataclass
class Drop:
    """What dropping the problem clauses left: `text`, clean and not a stub, with its check.
    `whole` when it states every bullet `text` stated and loses no more than
    `MAX_DROPPED_BULLET_GRAMS` of the bullets' words; then the drop alone is the repair.
    Otherwise the fallback puts back what it took (a bullet of several pieces of work is still
    "stated" by the rest when a sentence holding one of them goes: held-out seed-003-06 lost its
    禁毒日 campaign so)."""
    text: str
    report: CheckReport
    whole: bool


def drop_repair(text: str, report: CheckReport, section: OutlineSection, fields: list[str]) -> Drop | None:
    """The text without its problem clauses; None when that leaves a stub or a problem."""
    kept = without_problems(text, report, section, fields)
    kept_report = check_section(kept, section, fields)
    if len(kept) < MIN_KEPT_CHARS or problems_of(kept_report):
        return None
    lost = taken_words(text, kept, content_grams("\n".join(section.facts)))
    whole = not kept_report.missing and len(lost) <= MAX_DROPPED_BULLET_GRAMS \
        and all(states(kept, f) for f in section.facts if states(text, f))
    return Drop(kept, kept_report, whole)


def lost_clauses(fact: str, text: str, kept: str) -> list[str]:
    """The clauses of a bullet that `text` stated and `kept` (what a drop left of it) no longer
    does: work that went with a problem sentence while the bullet's other pieces still state it."""
    return [c for c in _CLAUSE.findall(fact) if c.strip() and says(text, c) and not says(kept, c)]


def _partial_mention(text: str, clause: str) -> tuple[int, int] | None:
    """Where `text` says a bullet clause in part: the longest stretch of the clause found once in
    `text`, at least `MIN_PARTIAL_CHARS` long and at one end of the clause, widened to the clause
    of `text` it stands in on the side the rest of the bullet clause goes (参赛企业10家 for
    第十二届“安康杯”竞赛参赛企业10家, 并完成技术攻关和新产品新技术开发应用 for …应用2项); or,
    inside the clause and `MIDDLE_SHARE` of it, widened to that whole clause of `text`
    (我们组织了“中国梦劳动美”职工文艺演出 for 组织“中国梦 劳动美”职工文艺演出7场)."""
    places = [i for i, ch in enumerate(text) if ch not in _FILLER]  # 参赛企业共10家 says 参赛企业10家
    squeezed = "".join(text[i] for i in places)
    clause = "".join(ch for ch in clause if ch not in _FILLER)
    match = SequenceMatcher(None, squeezed, clause, autojunk=False).find_longest_match(0, len(squeezed), 0, len(clause))
    size, b = match.size, match.b
    if size < MIN_PARTIAL_CHARS or size == len(clause) or squeezed.count(clause[b:b + size]) != 1:
        return None
    a, said_end = places[match.a], places[match.a + size - 1] + 1
    def clause_start(i: int) -> int:
        while i > 0 and text[i - 1] not in _CLAUSE_ENDS:
            i -= 1
        return i

    def clause_end(i: int) -> int:
        while i < len(text) and text[i] not in _CLAUSE_ENDS:
            i += 1
        return i

    if b == 0:  # the clause's start is said; what follows it in that clause of `text` gives way
        return a, clause_end(said_end)
    if b + size == len(clause):  # its end is said; what leads up to it gives way
        return clause_start(a), said_end
    if size >= MIDDLE_SHARE * len(clause):
        return clause_start(a), clause_end(said_end)
    return None


def _unless_worse(text: str, report: CheckReport, changed: str, section: OutlineSection,
                  fields: list[str]) -> tuple[str, CheckReport]:
    """`changed` and its check, unless it has more problems than `text` (whose check is `report`)."""
    if changed == text:
        return text, report
    changed_report = check_section(changed, section, fields)
    if len(problems_of(changed_report)) > len(problems_of(report)):
        return text, report
    return changed, changed_report


def complete_in_place(text: str, report: CheckReport, section: OutlineSection,
                      fields: list[str]) -> tuple[str, CheckReport]:
    """`text` with each bullet clause it says only in part (a figure or a name left out) written
    out whole where the part stands, so that the restatement does not repeat the sentence beside
    it (held-out seed-003-11: 参赛企业10家…此外，第十二届“安康杯”竞赛参赛企业10家). A completion
    that takes a bullet's words away is not made; none is kept if together they add a problem.
    Returned with its check."""
    bullet_grams = content_grams("\n".join(section.facts))
    completed = text
    for fact in section.facts:
        missed = [m for m in report.missing if m.fact == fact]
        # A clause missing a figure goes by its pieces at a colon: 协同区卫生监督所检查…控制室 says
        # the piece before the colon of 4月28日会同区卫生监督所检查…控制室：辐射安全培训资格证、…
        # but too little of the whole (held-out seed-000-03, which restated it whole).
        pieces = [piece for clause in _CLAUSE.finditer(fact)
                  for piece in (_PIECE.finditer(fact, *clause.span()) if any(_holds(clause, m) for m in missed)
                                else (clause,))]
        for clause in pieces:
            words = re.sub(r"\s", "", _TRAILING_PUNCT.sub("", clause.group()))  # 中国梦 劳动美 as drafts write it
            if len(words) <= MIN_PARTIAL_CHARS or words in completed:
                continue
            if says(completed, words) and not any(_holds(clause, m) for m in missed):
                continue
            if (span := _partial_mention(completed, words)) is None:
                continue
            candidate = completed[:span[0]] + words + completed[span[1]:]
            if not taken_words(completed, candidate, bullet_grams):
                completed = candidate
    return _unless_worse(text, report, completed, section, fields)


def _said_at(text: str, clause: str) -> tuple[int, int] | None:
    """Where `text` says bullet clause `clause` (`SAID_SHARE` of its words): the clause of `text`
    saying most of it, or two clauses of one sentence (五月底，我们走访了在建工地 for 五月底走访在建
    工地); None when neither does."""
    grams = content_grams(clause)
    spans = [m.span() for m in _TEXT_CLAUSE.finditer(text)]
    spans += [(a[0], b[1]) for a, b in pairwise(spans) if text[a[1]:b[0]] in ("，", ",")]
    if not grams or not spans:
        return None

    def said(span: tuple[int, int]) -> int:
        return len(grams & content_grams(text[span[0]:span[1]]))

    best = max(spans, key=lambda span: (said(span), span[0] - span[1]))  # of equals, the shorter
    return best if said(best) >= SAID_SHARE * len(grams) else None


def join_unsaid(text: str, report: CheckReport, section: OutlineSection,
                fields: list[str]) -> tuple[str, CheckReport]:
    """`text` with each run of clauses it left out of a bullet it otherwise states written beside
    the clause of `text` that says their neighbour in the bullet: before it when the run came
    first (按省市总工会劳资纠纷舆情要求，监督处理劳资纠纷15件), else after it. Restated as a sentence of
    its own, such a run reads as a fragment (监督处理劳资纠纷15件。按省市总工会劳资纠纷舆情要求。).
    Nothing is joined if together the joins add a problem. Returned with its check."""
    joined = text
    for fact in section.facts:
        unsaid = set(unsaid_clauses(joined, fact))
        if not unsaid or not states(joined, fact):
            continue
        for piece in _BULLET_ITEM.findall(fact):  # not across ；: 为女职工办讲座，…；报送信息两篇 are two items
            joined = _join_runs(joined, piece, unsaid)
    return _unless_worse(text, report, joined, section, fields)


def _join_runs(text: str, item: str, unsaid: set[str]) -> str:
    """`text` with each run of `unsaid` among the clauses of `item` (one item of a bullet) beside
    its neighbour, joined by a comma, or by the colon the item has there (“…”：3月初…)."""
    clauses, joiners, at = bullet_clauses(item), [], 0
    for clause in clauses:
        at = item.index(clause, at) + len(clause)
        joiners.append("：" if item[at:at + 1] in ("：", ":") else "，")
    i = 0
    while i < len(clauses):
        if clauses[i] not in unsaid:
            i += 1
            continue
        j = next((k for k in range(i, len(clauses)) if clauses[k] not in unsaid), len(clauses))
        run = "，".join(clauses[i:j])
        if j < len(clauses) and (span := _said_at(text, clauses[j])) is not None:
            text = f"{text[:span[0]]}{run}{joiners[j - 1]}{text[span[0]:]}"
        elif i > 0 and (span := _said_at(text, clauses[i - 1])) is not None:
            text = f"{text[:span[1]]}{joiners[i - 1]}{run}{text[span[1]:]}"
        i = j
    return text


def fallback(text: str, report: CheckReport, section: OutlineSection, fields: list[str]) -> str:
    """Remove the clauses with problems (`report` is `text`'s check), then restate each bullet
    whose figures are missing or that is no longer stated, and each bullet clause the removal
    took with it. A restatement takes the place of the sentence that held what it restates, so
    the section keeps its order; what no sentence held (a bullet the text never stated) follows
    at the end, as it does whenever the text in place would not check clean."""
    context = [section.heading, *fields]
    for step in (complete_in_place, join_unsaid):
        text, report = step(text, report, section, fields)
    kept = without_problems(text, report, section, fields)
    if len(kept) < MIN_KEPT_CHARS:  # a stub such as “今年以来，我会按照。” says nothing
        kept = ""
    missing: dict[str, list[Missing]] = {}
    for m in check_section(kept, section, fields).missing:
        missing.setdefault(m.fact, []).append(m)
    # A bullet whose figures are missing gets those clauses back; one the kept text no longer
    # states at all (a bullet without figures has none to miss) is restated whole.
    additions: list[tuple[str, list[str], str]] = []  # (sentence, figures it restores, its bullet)
    for fact in section.facts:
        if not states(kept, fact):
            additions.append((bullet_sentence(fact), [], fact))
            continue
        pieces = [missing_clauses(fact, missing[fact])] if fact in missing else []
        pieces += [c for c in unsaid_clauses(kept, fact) if not any(c in p for p in pieces)]
        if pieces:
            additions.append((bullet_sentence("，".join(pieces)), [m.text for m in missing.get(fact, [])], fact))
    if not additions:
        return kept
    if kept:
        placed = _in_place(text, report, additions, section.facts, context)
        if placed is not None and is_clean(check_section(placed, section, fields)) \
                and all(states(placed, f) for f in section.facts):
            return placed
    sentences = [sentence for sentence, _, _ in additions]
    if kept:
        sentences[0] = ("同时，" if "此外" in kept else "此外，") + sentences[0]
    return kept + "".join(sentences)


def _in_place(text: str, report: CheckReport, additions: list[tuple[str, list[str], str]],
              facts: list[str], context: list[str]) -> str | None:
    """`text` with its problem clauses dropped and each addition right after the sentence that
    held what it restates (a sentence that lost a clause, or one dropped whole), or else after
    the kept sentence that says most of the same bullet (a clause the model left out); None
    when an addition has neither."""
    sentences = kept_sentences(text, report)
    after: dict[int, list[str]] = {}
    for addition, figures, fact in additions:
        held = [i for i, (body, kept) in enumerate(sentences) if body != kept
                and (any(f in body for f in figures) or states(body, addition.rstrip("。")))]
        if not held:
            shared = [(len(content_grams(kept) & content_grams(fact)), i) for i, (_, kept) in enumerate(sentences) if kept]
            best = max(shared, default=(0, 0))
            held = [best[1]] if best[0] >= MIN_SHARED_GRAMS else []
        if not held:
            return None
        after.setdefault(held[0], []).append(addition)
    pieces = [kept + "".join(after.get(i, [])) for i, (_, kept) in enumerate(sentences)]
    return clean_paragraph("".join(pieces), facts, context)


def check_and_repair(client: LLMClient | None, section: OutlineSection, text: str, fields: list[str],
                     target_chars: int, on_event: Callable[[Event], None] | None = None, index: int = 0,
                     max_model_repairs: int = MAX_MODEL_REPAIRS, part: int = 0, before: str = "",
                     drop_first: bool = True) -> SectionCheck:
    """Check `text` (part `part` of section `index`, written from `section`'s bullets, after the
    section's finished parts `before`); drop the problem clauses when that suffices
    (`drop_first`), else re-ask the model about its problems, then fall back deterministically."""
    report = check_section(text, section, fields)
    result = SectionCheck(text=text, report=report)

    def so_far(text: str) -> str:
        return f"{before}\n{text}" if before else text

    if on_event:
        on_event(SectionChecked(index, not problems_of(report),
                                [{"text": t, "reason": r} for _, _, t, r in problems_of(report)],
                                [m.text for m in report.missing], part))
    def struck(text: str, problems: list[str]) -> None:
        """Take `text`, which struck `problems` from the current one, as a drop repair."""
        if text == result.text:
            return
        result.attempts.append({"how": "drop", "problems": problems, "accepted": True})
        result.text, result.report = text, check_section(text, section, fields)
        if on_event:
            on_event(SectionRepaired(index, "drop", True, so_far(result.text), part))

    struck(strike_vague(text, report), [f"“{w.text}”：{w.reason}" for w in vague_words(report)])
    struck(strike_effects(result.text, result.report, section, fields),
           [f"“{e.text}”：{e.reason}" for e in result.report.effects])
    drop = drop_repair(result.text, result.report, section, fields) \
        if drop_first and problems_of(result.report) else None
    if drop is not None and drop.whole:
        result.attempts.append({"how": "drop", "problems": [p[3] for p in problems_of(result.report)], "accepted": True})
        result.text, result.report = drop.text, drop.report
        if on_event:
            on_event(SectionRepaired(index, "drop", True, so_far(result.text), part))
    # When the drop leaves a clean text that only lost bullet material, the fallback restates
    # that material from the bullets; a re-ask cost 7–11 s and was refused in 3 of 4 cases.
    for _ in range(0 if drop is not None else max_model_repairs):
        if client is None:
            break
        problems = problems_of(result.report)
        if not problems:
            break
        notes = [f"“{t}”：{reason}" for _, _, t, reason in problems]
        generation = client.stream(repair_prompt(section, result.text, notes, target_chars))
        candidate = clean_paragraph(finish_paragraph(generation.text), section.facts, [section.heading, *fields])
        candidate_report = check_section(candidate, section, fields)
        result.attempts.append({"how": "model", "problems": notes, "accepted": False})
        # Nothing the text stated may go: no bullet, and no clause of one (a bullet of several
        # pieces still counts as stated when one piece is left out).
        kept_bullets = all(states(candidate, f) and not lost_clauses(f, result.text, candidate)
                           for f in section.facts if states(result.text, f))
        if len(problems_of(candidate_report)) < len(problems) and kept_bullets \
                and len(candidate_report.missing) <= len(result.report.missing):
            result.text, result.report = candidate, candidate_report
            result.attempts[-1]["accepted"] = True
        if on_event:
            on_event(SectionRepaired(index, "model", result.attempts[-1]["accepted"], so_far(result.text), part))
    # Work left out, figures or not: a bullet, or a clause of one the text otherwise states.
    unstated = [f for f in section.facts if not states(result.text, f)]
    unstated += [c for f in section.facts if f not in unstated for c in unsaid_clauses(result.text, f)]
    if not is_clean(result.report) or unstated:
        repaired = fallback(result.text, result.report, section, fields)
        result.attempts.append({"how": "fallback", "problems": [p[3] for p in problems_of(result.report)],
                                "missing": [m.text for m in result.report.missing], "unstated": unstated,
                                "accepted": True})
        result.text, result.report = repaired, check_section(repaired, section, fields)
        if on_event:
            on_event(SectionRepaired(index, "fallback", True, so_far(result.text), part))
    return result
