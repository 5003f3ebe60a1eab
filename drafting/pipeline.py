"""The whole data flow, bullets in, checked draft out, with per-section events for streaming.

Events passed to `on_event` (dicts with a "type"): section_started {index,total,title},
delta {index,text}, section_done {index,text,seconds}, done {seconds}.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drafting import assemble as asm
from drafting.llm import LLMClient, get_client
from drafting.plan import Outline, plan
from drafting.request import DraftRequest
from drafting.write import write_section

Event = dict[str, Any]


@dataclass
class SectionResult:
    heading: str
    facts: list[str]
    text: str
    raw_text: str
    seconds: float
    completion_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"heading": self.heading, "facts": self.facts, "text": self.text, "raw_text": self.raw_text,
                "seconds": round(self.seconds, 3), "completion_tokens": self.completion_tokens}


@dataclass
class DraftResult:
    title: str
    text: str
    raw_text: str
    sections: list[SectionResult]
    check: dict[str, Any]
    examples: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "text": self.text,
            "raw_text": self.raw_text,
            "sections": [s.to_dict() for s in self.sections],
            "check": self.check,
            "examples": self.examples,
            "timings": self.timings,
            "model": self.model,
        }


def _emit(on_event: Callable[[Event], None] | None, **event: Any) -> None:
    if on_event is not None:
        on_event(event)


def draft(request: DraftRequest, on_event: Callable[[Event], None] | None = None,
          client: LLMClient | None = None, outline: Outline | None = None) -> DraftResult:
    """Write the whole summary for `request` (optionally from an edited `outline`)."""
    from drafting.figures import check

    started = time.monotonic()
    client = client or get_client()
    outline = outline or plan(request)
    total = len(outline.sections)
    results: list[SectionResult] = []
    for index, section in enumerate(outline.sections):
        _emit(on_event, type="section_started", index=index, total=total, title=section.heading)
        generation = write_section(
            client, section, request.org, request.period,
            on_delta=lambda piece, i=index: _emit(on_event, type="delta", index=i, text=piece),
        )
        results.append(SectionResult(section.heading, section.facts, generation.text, generation.text,
                                     generation.seconds, generation.completion_tokens))
        _emit(on_event, type="section_done", index=index, text=generation.text, seconds=generation.seconds)
    opening, closing = asm.opening(request), asm.closing(request)
    text = asm.assemble(outline.title, opening, [(r.heading, r.text) for r in results], closing)
    raw_text = asm.assemble(outline.title, opening, [(r.heading, r.raw_text) for r in results], closing)
    report = check(text, request.facts, fields=request.field_texts())
    seconds = time.monotonic() - started
    _emit(on_event, type="done", seconds=seconds)
    return DraftResult(
        title=outline.title, text=text, raw_text=raw_text, sections=results, check=report.to_dict(),
        timings={"total": round(seconds, 3), "sections": round(sum(r.seconds for r in results), 3)},
        model=client.label,
    )
