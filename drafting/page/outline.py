"""The outline as the page edits it: plain dicts with a stable `uid` per section, so that widgets
keep their identity when sections move. Every function returns a new outline; none mutates.

    state = editable(plan(request))
    state = move_fact(state, from_uid, 0, to_uid)
    request = request_for_outline(org, period, year, state, options)
    draft(request, outline=to_outline(state))
"""
from __future__ import annotations

import copy
import uuid
from typing import Any

from drafting import service
from drafting.flow.plan import Outline, OutlineSection
from drafting.flow.request import RequestError, SectionInput
from drafting.service import Intake

State = dict[str, Any]


def _uid() -> str:
    return uuid.uuid4().hex[:10]


def editable(outline: Outline) -> State:
    state = outline.to_dict()
    for section in state["sections"]:
        section["uid"] = _uid()
    return state


def to_outline(state: State) -> Outline:
    """The pipeline's outline: sections without bullets are left out."""
    sections = [OutlineSection(heading=s["heading"].strip(), facts=list(s["facts"]), kind=s.get("kind", "topic"),
                               topic=s.get("topic")) for s in state["sections"] if s["facts"]]
    return Outline(title=state["title"].strip(), sections=sections)


def _index(state: State, uid: str) -> int:
    for i, section in enumerate(state["sections"]):
        if section["uid"] == uid:
            return i
    raise KeyError(uid)


def move_section(state: State, uid: str, delta: int) -> State:
    """Move a section up (delta -1) or down (+1); at either end nothing changes."""
    new = copy.deepcopy(state)
    sections = new["sections"]
    i = _index(new, uid)
    j = i + delta
    if 0 <= j < len(sections):
        sections[i], sections[j] = sections[j], sections[i]
    return new


def rename_section(state: State, uid: str, heading: str) -> State:
    new = copy.deepcopy(state)
    new["sections"][_index(new, uid)]["heading"] = heading
    return new


def set_title(state: State, title: str) -> State:
    return {**copy.deepcopy(state), "title": title}


def drop_section(state: State, uid: str) -> State:
    """Remove a section with its bullets (they are then neither written nor checked)."""
    new = copy.deepcopy(state)
    del new["sections"][_index(new, uid)]
    return new


def add_section(state: State, heading: str) -> State:
    new = copy.deepcopy(state)
    new["sections"].append({"uid": _uid(), "heading": heading, "facts": [], "kind": "topic", "topic": None})
    return new


def move_fact(state: State, from_uid: str, fact_index: int, to_uid: str) -> State:
    """Move one bullet to the end of another section."""
    new = copy.deepcopy(state)
    if from_uid == to_uid:
        return new
    fact = new["sections"][_index(new, from_uid)]["facts"].pop(fact_index)
    new["sections"][_index(new, to_uid)]["facts"].append(fact)
    return new


def problems(state: State) -> list[str]:
    """What keeps the outline from being written, in Chinese (empty when it is fine)."""
    found = []
    if not state["title"].strip():
        found.append("请填写总结的标题。")
    if not any(s["facts"] for s in state["sections"]):
        found.append("提纲中没有任何要点，请至少保留一个有要点的小节。")
    if any(s["facts"] and not s["heading"].strip() for s in state["sections"]):
        found.append("有小节没有标题，请补上。")
    return found


def intake_for_outline(org: str, period: str, year: Any, state: State,
                       options: dict[str, Any] | None = None, owner: str = "") -> Intake:
    """The intake whose bullets are exactly the outline's: what is written is what gets checked."""
    if found := problems(state):
        raise RequestError(found[0])
    outline = to_outline(state)
    sections = [SectionInput(title=s.heading, facts=list(s.facts)) for s in outline.sections]
    return service.intake(org, period, year, sections, options, owner)
