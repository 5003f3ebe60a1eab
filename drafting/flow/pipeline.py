"""The whole data flow, bullets in, checked draft out, with per-section events for streaming.

parse (request) → plan → retrieve (examples) → write → check → repair → assemble.

Events passed to `on_event` are the typed events of `drafting.flow.events` (PlanMade,
SectionStarted, Delta, SectionChecked, SectionRepaired, PartDone, SectionDone, Finished).
A `threading.Event` passed as `cancel` stops the run between calls (`Cancelled` is raised).
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drafting.checker.claims import Claim
from drafting.checker.report import Finding
from drafting.config import get_settings
from drafting.flow import assemble as asm
from drafting.flow.check import check
from drafting.flow.events import Delta, Event, Finished, PartDone, PlanMade, SectionDone, SectionStarted
from drafting.flow.hygiene import clean_paragraph
from drafting.flow.phrases import PhraseBank, PhraseOffer
from drafting.flow.plan import Outline, OutlineSection, plan
from drafting.flow.repair import bullet_sentence, check_and_repair, check_section, problems_of
from drafting.flow.request import DraftRequest, RequestError
from drafting.flow.retrieve import find_examples, style_phrases, votes_for
from drafting.flow.write import (
    MAX_SECTION_CHARS,
    MIN_LENGTH_SHARE,
    MIN_SECTION_CHARS,
    WriteContext,
    fact_chunks,
    finish_paragraph,
    honest_chars,
    max_tokens_for,
    section_target_chars,
    write_section,
)
from drafting.model.endpoint import get_client
from drafting.model.llm import LLMClient, Prompt
from drafting.prompts import render

DEFAULT_EXAMPLES = 2
EARLY_STOP_RETRIES = 1
LEAD_IN_CHARS = 20  # besides its bullets, what a section needs at the least (an opening clause)
MIN_GENERATED_CHARS = 12  # less means the model stopped early (seen with the 1.5B model)
STRATEGIES = ("sectioned", "whole")


class Cancelled(RuntimeError):
    """The user cancelled the run."""


@dataclass
class SectionResult:
    heading: str
    facts: list[str]
    text: str
    raw_text: str
    seconds: float
    completion_tokens: int = 0
    repairs: list[dict[str, Any]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # ids of the example sections used
    kind: str = "topic"
    phrases: list[str] = field(default_factory=list)  # genre phrases the pipeline attached

    def to_dict(self) -> dict[str, Any]:
        return {"heading": self.heading, "facts": self.facts, "text": self.text, "raw_text": self.raw_text,
                "seconds": round(self.seconds, 3), "completion_tokens": self.completion_tokens,
                "repairs": self.repairs, "examples": self.examples, "kind": self.kind, "phrases": self.phrases}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SectionResult:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class DraftResult:
    title: str
    text: str
    raw_text: str
    sections: list[SectionResult]
    check: dict[str, Any]
    examples: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)  # total, sections (seconds), per_section (list)
    model: str = ""
    strategy: str = "sectioned"
    opening: str = ""
    closing: str = ""
    notes: list[str] = field(default_factory=list)  # what the user should know (length not reachable)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title, "text": self.text, "raw_text": self.raw_text,
            "sections": [s.to_dict() for s in self.sections], "check": self.check,
            "examples": self.examples, "timings": self.timings, "model": self.model,
            "strategy": self.strategy, "opening": self.opening, "closing": self.closing, "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DraftResult:
        """A stored result back as the type (keys added by the faces, such as `fallback`, are left)."""
        sections = [SectionResult.from_dict(s) for s in data.get("sections", [])]
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "sections"},
                   sections=sections)


def _emit(on_event: Callable[[Event], None] | None, event: Event) -> None:
    if on_event is not None:
        on_event(event)


def plain_text(facts: list[str]) -> str:
    """A section stated as its bullets, one plain sentence each (figures are the input's own)."""
    return "".join(bullet_sentence(f) for f in facts)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("已取消生成。")


def write_context(request: DraftRequest) -> WriteContext:
    lead = "一年来" if request.period in ("全年", "年度") else request.period
    return WriteContext(org=request.org, period=request.period, lead=lead)


def section_targets(outline: Outline, request: DraftRequest) -> list[int]:
    """Characters per section: from the requested total length when given, else per bullet."""
    target_total = request.options.get("target_chars")
    if not target_total:
        return [section_target_chars(s) for s in outline.sections]
    frame = sum(map(len, _frame(request, outline))) + len(outline.title)
    frame += sum(len(asm.section_heading(i, s.heading)) for i, s in enumerate(outline.sections))
    # A bullet cannot be stated in much less than its own length: each section needs its bullets
    # and a lead-in; what the target leaves beyond that is shared out by the number of bullets.
    needs = [sum(len(f) for f in s.facts) + LEAD_IN_CHARS for s in outline.sections]
    spare = max(int(target_total) - frame - sum(needs), 0)
    n_facts = sum(len(s.facts) for s in outline.sections) or 1
    # Never more than the bullets can honestly fill: length comes from material, not invention.
    return [min(need + spare * len(s.facts) // n_facts, MAX_SECTION_CHARS * 2, honest_chars(s))
            for need, s in zip(needs, outline.sections)]


def length_notes(outline: Outline, request: DraftRequest) -> list[str]:
    """What the page says when the bullets cannot honestly fill the requested length."""
    target_total = request.options.get("target_chars")
    if not target_total:
        return []
    frame = sum(map(len, _frame(request, outline))) + len(outline.title)
    frame += sum(len(asm.section_heading(i, s.heading)) for i, s in enumerate(outline.sections))
    most = frame + sum(honest_chars(s) for s in outline.sections)
    if most >= int(target_total) * 0.9:
        return []
    return [f"要点的内容最多能如实写成约 {most // 100 * 100 or most} 字，达不到目标篇幅约 {target_total} 字。"
            "没有用编造的内容凑字数；如需更长，请补充要点（做了哪些工作、数字、对象、成效）。"]


def _examples_for(section: OutlineSection, request: DraftRequest, k: int) -> tuple[list[str], list[dict[str, Any]]]:
    examples = find_examples(section, request, k)
    own_words = section.heading + "\n" + "\n".join(section.facts)
    # Only a topic paragraph closes on a genre phrase of effect: a shortcomings paragraph does not
    # (…存在不足，发挥企业工会作用, held-out seed-004-02), nor does a plan, which is future work.
    styles = [phrase for e in examples for phrase in style_phrases(e.masked, own_words)] if section.kind == "topic" else []
    shown = [{"id": e.id, "summary_id": e.summary_id, "title": e.title, "heading": e.heading, "kind": e.kind,
              "org_level": e.org_level, "period": e.period, "text": e.text, "score": round(e.score, 4),
              "source": e.source} for e in examples]
    return styles, shown


def section_parts(section: OutlineSection, target: int, explicit_length: bool,
                  first_part: int = 0) -> list[tuple[OutlineSection, int]]:
    """The parts one call each writes, with their character targets (the section's target
    shared by bullets); `first_part` bullets make a short first part."""
    chunks = fact_chunks(section.facts, target_chars=target if explicit_length else 0, first=first_part)
    return [(OutlineSection(heading=section.heading, facts=chunk, kind=section.kind, topic=section.topic),
             max(MIN_SECTION_CHARS // 2, target * len(chunk) // len(section.facts))) for chunk in chunks]


def _write_one(client: LLMClient, request: DraftRequest, section: OutlineSection, index: int, total: int,
               target: int, k: int, on_event: Callable[[Event], None] | None, bank: PhraseBank,
               temperature: float = 0.3, position: int | None = None,
               first_part: int = 0) -> tuple[SectionResult, list[dict[str, Any]]]:
    """Write one section part by part (the bullets one call writes); each part is checked and
    repaired against its own bullets as soon as it is written, so it is final before the next
    call starts. `first_part` bullets make a short first part (a draft's first section)."""
    started = time.monotonic()
    _emit(on_event, SectionStarted(index, total, section.heading))
    styles, shown = _examples_for(section, request, k)
    position = index if position is None else position
    explicit_length = bool(request.options.get("target_chars"))
    parts = section_parts(section, target, explicit_length, first_part)
    fields = request.field_texts()
    paragraphs: list[str] = []
    raws: list[str] = []
    repairs: list[dict[str, Any]] = []
    tokens = 0
    for n, (part, part_target) in enumerate(parts):
        if n:
            _emit(on_event, Delta(index, "\n"))
        for attempt in range(1 + EARLY_STOP_RETRIES):
            if attempt:  # the model stopped after a few words: start the part again, differently
                _emit(on_event, SectionStarted(index, total, section.heading, attempt, "\n".join(paragraphs)))
            generation = write_section(
                client, part, write_context(request), part_target, position=position + n + attempt,
                temperature=temperature + 0.2 * attempt,
                on_delta=lambda piece: _emit(on_event, Delta(index, piece)),
                min_chars=int(part_target * MIN_LENGTH_SHARE) if explicit_length else 0,
            )
            tokens += generation.completion_tokens
            if len(generation.text) - len(generation.prefill) >= MIN_GENERATED_CHARS:
                break
        raws.append(generation.text)
        checked = check_and_repair(client, part, generation.text, fields, part_target, on_event=on_event,
                                   index=index, part=n, before="\n".join(paragraphs),
                                   drop_first=get_settings().repair_drop_first)
        paragraphs.append(checked.text)
        repairs.extend(checked.attempts)
        _emit(on_event, PartDone(index, n, len(parts), "\n".join(paragraphs)))
    # Parts were checked alone: the whole section once more, for a statement two parts repeat.
    # Nothing the model wrote is unchecked by now, so no model call: the fallback at most.
    return _finish_section(None, request, section, index, target, "\n".join(paragraphs), "\n".join(raws),
                           started, tokens, shown, on_event, bank.offer(styles), repairs)


def _finish_section(client: LLMClient | None, request: DraftRequest, section: OutlineSection, index: int,
                    target: int, text: str, raw: str, started: float, tokens: int, shown: list[dict[str, Any]],
                    on_event: Callable[[Event], None] | None, phrases: PhraseOffer | None = None,
                    repairs: list[dict[str, Any]] | None = None) -> tuple[SectionResult, list[dict[str, Any]]]:
    """Check and repair the whole section (`client` None: its parts were checked already, so the
    deterministic fallback at most, and no check events again), attach a genre phrase, report."""
    fields = request.field_texts()
    checked = check_and_repair(
        client, section, clean_paragraph(text, section.facts), fields, target,  # repeats across its paragraphs
        on_event=on_event if client is not None else None, index=index,
    )
    text, attached = checked.text, list[str]()
    if phrases is not None:
        text, attached = phrases.attach(checked.text, lambda t: len(problems_of(check_section(t, section, fields))))
    seconds = time.monotonic() - started
    result = SectionResult(section.heading, list(section.facts), text, raw, seconds, tokens,
                           [*(repairs or []), *checked.attempts], [e["id"] for e in shown], section.kind, attached)
    _emit(on_event, SectionDone(index, text, seconds))
    return result, shown


def _final_check(request: DraftRequest, text: str, results: list[SectionResult],
                 fresh: set[int]) -> tuple[str, dict[str, Any]]:
    """The check of the text as it will be shown.

    Repair has already cleaned every section written in this run, so an unsupported figure or
    claim here is either the user's own edit in a section kept from an earlier version (kept
    exactly and marked, never rewritten) or, should repair ever have missed one, in a fresh
    section; only such a fresh section is stated plainly from its bullets.
    """
    report = check(text, request.facts, fields=request.field_texts())
    layout = asm.parse_layout(text, len(results))
    problems: list[Finding | Claim] = [*report.unsupported, *report.claims]
    if not problems or layout is None:
        return text, report.to_dict()
    for i in sorted(fresh, reverse=True):  # from the end, so earlier line ranges stay valid
        start, end = layout.char_span(layout.bodies[i])
        if any(p.start < end and p.end > start for p in problems):
            results[i].text = plain_text(results[i].facts)
            results[i].repairs.append({"how": "fallback", "accepted": True})
            text = layout.replace_body(i, results[i].text)
    return text, check(text, request.facts, fields=request.field_texts()).to_dict()


def _assemble(request: DraftRequest, title: str, frame: tuple[str, str], results: list[SectionResult],
              client: LLMClient | None, examples: list[dict[str, Any]], started: float, strategy: str,
              text: str | None = None, fresh: set[int] | None = None) -> DraftResult:
    """The draft result: `text` (a previous version with one section replaced) or the sections
    joined in the frame (opening, closing), checked as shown; `fresh` are the sections written
    in this run (all of them when not given)."""
    opening, closing = frame
    if text is None:
        text = asm.assemble(title, opening, [(r.heading, r.text) for r in results], closing)
    raw_text = asm.assemble(title, opening, [(r.heading, r.raw_text) for r in results], closing)
    text, report = _final_check(request, text, results, set(range(len(results))) if fresh is None else fresh)
    unique: dict[str, dict[str, Any]] = {}
    for example in examples:
        unique.setdefault(example["id"], example)
    seconds = time.monotonic() - started
    return DraftResult(
        title=title, text=text, raw_text=raw_text, sections=results, check=report,
        examples=list(unique.values()), model=client.label if client else "", strategy=strategy,
        opening=opening, closing=closing,
        timings={"total": round(seconds, 3), "sections": round(sum(r.seconds for r in results), 3),
                 "per_section": [round(r.seconds, 3) for r in results]},
    )


def _frame(request: DraftRequest, outline: Outline) -> tuple[str, str]:
    """The opening (naming the outline's own topics) and the closing."""
    return asm.opening(request, [s.own_topic for s in outline.sections]), asm.closing(request)


def draft(request: DraftRequest, on_event: Callable[[Event], None] | None = None,
          client: LLMClient | None = None, outline: Outline | None = None,
          cancel: threading.Event | None = None) -> DraftResult:
    """Write the whole summary for `request` (optionally from an edited `outline`)."""
    started = time.monotonic()
    client = client or get_client()
    outline = outline or plan(request, votes_for(request))
    strategy = request.options.get("strategy") or "sectioned"
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    k = int(request.options.get("examples", DEFAULT_EXAMPLES))
    _emit(on_event, PlanMade(outline.to_dict()))
    targets = section_targets(outline, request)
    results: list[SectionResult] = []
    examples: list[dict[str, Any]] = []
    if strategy == "whole":
        results, examples = _draft_whole(client, request, outline, targets, on_event, cancel)
    else:
        total = len(outline.sections)
        bank = PhraseBank()
        first_part = get_settings().first_part_bullets
        for index, section in enumerate(outline.sections):
            _check_cancel(cancel)
            result, shown = _write_one(client, request, section, index, total, targets[index], k, on_event, bank,
                                       first_part=first_part if index == 0 else 0)
            results.append(result)
            examples.extend(shown)
    draft_result = _assemble(request, outline.title, _frame(request, outline), results, client, examples, started, strategy)
    draft_result.notes = length_notes(outline, request)
    _emit(on_event, Finished(draft_result.timings["total"]))
    return draft_result


def _draft_whole(client: LLMClient, request: DraftRequest, outline: Outline, targets: list[int],
                 on_event: Callable[[Event], None] | None,
                 cancel: threading.Event | None) -> tuple[list[SectionResult], list[dict[str, Any]]]:
    """One call for every section body (for strong remote models), then per-section check and repair."""
    _check_cancel(cancel)
    started = time.monotonic()
    headings = [asm.section_heading(i, s.heading) for i, s in enumerate(outline.sections)]
    blocks = "\n\n".join(f"{h}\n" + "\n".join(f"- {f}" for f in s.facts) for h, s in zip(headings, outline.sections))
    system, user = render("whole", org=request.org, period=request.period, sections=blocks, target_chars=sum(targets))

    total = len(outline.sections)
    _emit(on_event, SectionStarted(0, total, outline.sections[0].heading))
    generation = client.stream(
        Prompt(system=system, user=user, max_tokens=max_tokens_for(sum(targets)), temperature=0.3),
        on_delta=lambda piece: _emit(on_event, Delta(0, piece)),
    )
    bodies = split_by_headings(generation.text, headings)
    share = generation.completion_tokens // max(total, 1)
    results = []
    for index, section in enumerate(outline.sections):
        _check_cancel(cancel)
        result, _ = _finish_section(client, request, section, index, targets[index], bodies[index],
                                    bodies[index], started, share, [], on_event)
        results.append(result)
    return results, []


def split_by_headings(text: str, headings: list[str]) -> list[str]:
    """Bodies under each expected heading of a whole-draft answer ('' where a heading is absent)."""
    positions = []
    for heading in headings:
        enumerator = heading.split("、", 1)[0] + "、"
        match = re.search(rf"(?m)^\s*{re.escape(enumerator)}.*$", text)
        positions.append(match if match else None)
    bodies = []
    for i, match in enumerate(positions):
        if match is None:
            bodies.append("")
            continue
        later = [m.start() for m in positions[i + 1:] if m is not None and m.start() > match.end()]
        body = text[match.end(): min(later) if later else len(text)]
        bodies.append(finish_paragraph(body))
    return bodies


def regenerate_section(request: DraftRequest, previous: dict[str, Any], index: int,
                       client: LLMClient | None = None,
                       on_event: Callable[[Event], None] | None = None) -> DraftResult:
    """Write section `index` of the version `previous` again (a different opening, a little more
    variety). Every other character of that version's text — the user's edits to the title,
    opening, other sections and closing included — is kept exactly as it was."""
    started = time.monotonic()
    sections = [SectionResult.from_dict(s) for s in previous["sections"]]
    if not 0 <= index < len(sections):
        raise IndexError(f"没有第 {index + 1} 节。")
    layout = asm.parse_layout(previous.get("text", ""), len(sections))
    if layout is None:
        raise RequestError("正文中的小节标题（一、二、……）改动过或被删去，无法确定要重写哪一段。"
                           "请在“修改正文”中恢复小节标题后再重写，或直接修改这一节。")
    for i, section in enumerate(sections):  # the text shown is the truth: headings and bodies as edited
        section.heading, section.text = layout.heading_text(i), layout.body_text(i)
    client = client or get_client()
    outline = Outline(title=layout.title_text, sections=[
        OutlineSection(heading=s.heading, facts=list(s.facts), kind=s.kind) for s in sections])
    targets = section_targets(outline, request)
    k = int(request.options.get("examples", DEFAULT_EXAMPLES))
    attempt = sum(1 for r in sections[index].repairs if r.get("how") == "regenerate") + 1
    bank = PhraseBank({p for i, s in enumerate(sections) if i != index for p in s.phrases})
    result, shown = _write_one(client, request, outline.sections[index], index, len(sections), targets[index], k,
                               on_event, bank, temperature=0.7, position=index + attempt)
    result.repairs = [*result.repairs, {"how": "regenerate", "accepted": True}]
    sections[index] = result
    replaced = set(previous["sections"][index].get("examples", []))
    kept_examples = [e for e in previous.get("examples", []) if e["id"] not in replaced]
    draft_result = _assemble(request, layout.title_text, (layout.opening_text, layout.closing_text), sections,
                             client, kept_examples + shown, started, previous.get("strategy", "sectioned"),
                             text=layout.replace_body(index, result.text), fresh={index})
    _emit(on_event, Finished(draft_result.timings["total"]))
    return draft_result


def plain_draft(request: DraftRequest, outline: Outline | None = None) -> DraftResult:
    """The deterministic draft for when no model can be reached: every section states its
    bullets as plain sentences, in the usual frame. Its figures are the input's own."""
    started = time.monotonic()
    outline = outline or plan(request, votes_for(request))
    results = []
    for section in outline.sections:
        text = plain_text(section.facts)
        results.append(SectionResult(section.heading, list(section.facts), text, text, 0.0, kind=section.kind,
                                     repairs=[{"how": "fallback", "accepted": True}]))
    return _assemble(request, outline.title, _frame(request, outline), results, None, [], started,
                     request.options.get("strategy") or "sectioned")
