"""The user's own edits: re-check an edited draft against its bullets and keep it as a new version.

The checker runs on the edited text exactly as typed. When the numbered section headings are
still in place, the per-section texts are updated from the edit too, so that regenerating one
section later keeps the user's changes to the others.
"""
from __future__ import annotations

import copy
from typing import Any

from drafting.assemble import section_heading
from drafting.figures import check
from drafting.request import clean_text, request_from_json
from drafting.store import Draft, Store


def recheck(text: str, request: dict[str, Any]) -> dict[str, Any]:
    """The check report of `text` against the bullets and fields of a stored request."""
    req = request_from_json(request)
    return check(text, req.facts, fields=req.field_texts()).to_dict()


def section_bodies(text: str, headings: list[str]) -> list[str] | None:
    """The body of each numbered section of `text`, found by its heading line; None when a
    heading is missing or out of order. The last line of the text is the closing paragraph."""
    lines = text.split("\n")
    positions = []
    for i, heading in enumerate(headings):
        wanted = section_heading(i, heading)
        start = positions[-1] + 1 if positions else 0
        found = next((n for n in range(start, len(lines)) if lines[n].strip() == wanted), None)
        if found is None:
            return None
        positions.append(found)
    ends = positions[1:] + [len(lines) - 1]
    return ["\n".join(line for line in lines[p + 1:e] if line.strip()) for p, e in zip(positions, ends)]


def save_edit(store: Store, base: Draft, text: str) -> tuple[int | None, dict[str, Any]]:
    """Check the edited `text`; store it as a child of `base` when it differs.

    Returns (new id or None when the text is unchanged, check report).
    """
    text = clean_text(text).strip("\n")
    report = recheck(text, base.request)
    if text == base.text:
        return None, report
    result = copy.deepcopy(base.result)
    title = text.split("\n", 1)[0].strip() or base.title
    result.update(title=title, text=text, check=report)
    bodies = section_bodies(text, [s["heading"] for s in result.get("sections", [])])
    if bodies is not None:
        for section, body in zip(result["sections"], bodies):
            section["text"] = body
    new_id = store.save_draft(text=text, title=title,
                              request=base.request, check=report, result=result,
                              facts_text=base.facts_text, parent_id=base.id, kind="edited")
    return new_id, report


def sections_in_sync(draft: Draft) -> bool:
    """Whether the per-section texts still match the draft (regenerating keeps every edit)."""
    headings = [s["heading"] for s in draft.result.get("sections", [])]
    bodies = section_bodies(draft.text, headings)
    return bodies is not None and bodies == [s["text"] for s in draft.result["sections"]]
