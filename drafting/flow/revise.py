"""The user's own edits: re-check an edited draft against its bullets and keep it as a new version.

The checker runs on the edited text exactly as typed. When the numbered section headings are
still in place, the title, opening, per-section headings and texts and the closing are taken
from the edit too, so that the stored version describes the text shown and regenerating one
section later keeps every change to the rest.
"""
from __future__ import annotations

import copy
from typing import Any

from drafting.flow.assemble import parse_layout
from drafting.flow.check import check
from drafting.flow.derive import prepare
from drafting.flow.request import request_from_json
from drafting.store import Draft, Store
from drafting.text import clean_text


def recheck(text: str, request: dict[str, Any]) -> dict[str, Any]:
    """The check report of `text` against the bullets and fields of a stored request."""
    req, _ = prepare(request_from_json(request))  # the bullets the version was written and checked against
    return check(text, req.facts, fields=req.field_texts()).to_dict()


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
    result.update(title=title, text=text, check=report, notes=[])  # the notes spoke of the text before the edit
    sections = result.get("sections", [])
    if (layout := parse_layout(text, len(sections))) is not None:
        result.update(title=layout.title_text, opening=layout.opening_text, closing=layout.closing_text)
        for i, section in enumerate(sections):
            section.update(heading=layout.heading_text(i), text=layout.body_text(i))
    new_id = store.save_draft(text=text, title=title,
                              request=base.request, check=report, result=result,
                              facts_text=base.facts_text, parent_id=base.id, kind="edited", user_id=base.user_id)
    return new_id, report


def can_regenerate(draft: Draft) -> bool:
    """Whether one section of `draft` can be rewritten with every other character kept: its
    numbered headings are all still in place."""
    sections = draft.result.get("sections", [])
    return bool(sections) and parse_layout(draft.text, len(sections)) is not None
