"""What the drafting page remembers between reruns, refreshes and restarts.

The page keeps its state in a mapping (Streamlit's session state); `snapshot()` picks the part
worth keeping, the page autosaves it to the store whenever it changes, and `restore()` puts it
back when a new browser session starts.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import MutableMapping
from datetime import date
from typing import Any

LENGTHS: dict[str, int | None] = {"自动": None, "约 1500 字": 1500, "约 2500 字": 2500, "约 4000 字": 4000}
STRATEGIES = {"sectioned": "分节写作（推荐，内置模型用这个）", "whole": "整篇一次写成（适合能力强的远程模型）"}


def defaults() -> dict[str, Any]:
    """Every remembered key with its value for a first visit."""
    return {
        "org": "",
        "period": "上半年",
        "year": str(date.today().year),
        "length": next(iter(LENGTHS)),
        "facts_text": "",
        "strategy": "sectioned",
        "n_examples": 2,
        "outline": None,
        "outline_basis": None,
        "ignored_facts": [],  # instruction-like lines left out of the outline
        "draft_id": None,
        "job_id": None,
        "editing": False,
        "editor": "",
    }


def snapshot(state: MutableMapping[str, Any]) -> dict[str, Any]:
    return {key: state.get(key, value) for key, value in defaults().items()}


def restore(state: MutableMapping[str, Any], saved: dict[str, Any] | None) -> None:
    """Fill `state` from an autosave, falling back to the defaults key by key."""
    saved = saved or {}
    for key, value in defaults().items():
        state[key] = saved.get(key, value)
    if state["length"] not in LENGTHS:
        state["length"] = next(iter(LENGTHS))
    if state["strategy"] not in STRATEGIES:
        state["strategy"] = "sectioned"


def input_basis(state: MutableMapping[str, Any]) -> str:
    """A fingerprint of what an outline is planned from: when it changes, the outline is stale."""
    basis = [state.get(k, "") for k in ("org", "period", "year", "facts_text")]
    return hashlib.sha256(json.dumps(basis, ensure_ascii=False).encode()).hexdigest()[:16]


def options(state: MutableMapping[str, Any]) -> dict[str, Any]:
    """The request options chosen on the page (strategy, examples, target length)."""
    out: dict[str, Any] = {"strategy": state.get("strategy", "sectioned"), "examples": int(state.get("n_examples", 2))}
    if (target := LENGTHS.get(state.get("length", ""))) is not None:
        out["target_chars"] = target
    return out
