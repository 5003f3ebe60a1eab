"""The events a draft emits while it is written: one typed vocabulary for the page's progress,
the HTTP stream and the command line. `to_dict()` is the wire shape (the `type` key and the
fields), unchanged for the HTTP stream's clients.

Order for one section: SectionStarted (again, with `retry`, when the model stopped early), then
for each part (the bullets one call writes; a long section has several) Delta…, SectionChecked,
SectionRepaired… (when the check found problems), PartDone; then SectionDone. A draft opens
with PlanMade and ends with Finished.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class PlanMade:
    type: ClassVar[str] = "plan"
    outline: dict[str, Any]


@dataclass(frozen=True)
class SectionStarted:
    type: ClassVar[str] = "section_started"
    index: int
    total: int
    title: str
    retry: int = 0
    text: str = ""  # what the section keeps from before a retry


@dataclass(frozen=True)
class Delta:
    type: ClassVar[str] = "delta"
    index: int
    text: str


@dataclass(frozen=True)
class SectionChecked:
    """Part `part` of section `index` was checked against its bullets."""

    type: ClassVar[str] = "section_checked"
    index: int
    ok: bool
    problems: list[dict[str, str]] = field(default_factory=list)  # {"text", "reason"}
    missing: list[str] = field(default_factory=list)
    part: int = 0


@dataclass(frozen=True)
class SectionRepaired:
    type: ClassVar[str] = "section_repaired"
    index: int
    how: str  # "drop" (problem clauses removed), "model" (a re-ask) or "fallback" (the deterministic restatement)
    accepted: bool
    text: str  # the section so far: its finished parts and this part as repaired
    part: int = 0


@dataclass(frozen=True)
class PartDone:
    """Part `part` of `parts` of section `index` is written, checked and repaired: `text` is the
    section so far, and no later part changes it (SectionDone may still add a closing phrase or
    drop a statement a later part repeats)."""

    type: ClassVar[str] = "part_done"
    index: int
    part: int
    parts: int
    text: str


@dataclass(frozen=True)
class SectionDone:
    type: ClassVar[str] = "section_done"
    index: int
    text: str
    seconds: float


@dataclass(frozen=True)
class Finished:
    type: ClassVar[str] = "done"
    seconds: float


@dataclass(frozen=True)
class Queued:
    """Emitted by the service while a draft waits for the model (`ahead` drafts before it)."""

    type: ClassVar[str] = "queued"
    ahead: int


@dataclass(frozen=True)
class Retrying:
    """Emitted by the service before it tries the model again after a transient error."""

    type: ClassVar[str] = "retry"
    attempt: int
    delay: float


Event = PlanMade | SectionStarted | Delta | SectionChecked | SectionRepaired | PartDone | SectionDone | Finished | Queued | Retrying


def to_dict(event: Event) -> dict[str, Any]:
    """The wire shape: {"type": …, **fields}."""
    return {"type": event.type, **asdict(event)}
