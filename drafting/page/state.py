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

from drafting.flow.derive import base_fact
from drafting.flow.request import parse_facts_text

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
        "derive": False,
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
    if state.get("derive"):
        out["derive"] = True
    if (target := LENGTHS.get(state.get("length", ""))) is not None:
        out["target_chars"] = target
    return out


def made_from_other_input(state: MutableMapping[str, Any], request: dict[str, Any]) -> str | None:
    """Why the shown version no longer matches the input on the left (None: it does): it was
    written, and checked, against the bullets it was given, not the ones now in the box."""
    changed = [label for key, label in (("org", "单位名称"), ("period", "总结期间")) if
               str(state.get(key, "")).strip() != str(request.get(key) or "").strip()]
    if str(state.get("year", "")).strip() != str(request.get("year") or "").strip():
        changed.append("年份")
    used = [base_fact(f) for s in request.get("sections", []) for f in s.get("facts", [])]
    now = [f for s in parse_facts_text(state.get("facts_text", "")) for f in s.facts]
    gone, new = sum(1 for f in used if f not in now), sum(1 for f in now if f not in used)
    if gone:
        changed.append(f"这一版用到的 {gone} 条要点已从左侧删去或改动")
    if new:
        changed.append(f"左侧有 {new} 条要点不在这一版中")
    if not changed:
        return None
    return "这一版是按之前的要点和信息写的，与左侧现在的内容不同：" + "；".join(changed) + \
        "。正文和核对都针对当时的要点；要按现在的内容写，请重新生成提纲和初稿。"
