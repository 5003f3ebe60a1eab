"""The draft as Markdown: the words unchanged, the checker's findings visible — each flagged
span between ⚠ markers with a numbered note, and the reasons listed at the end."""
from __future__ import annotations

from typing import Any

from drafting.export.layout import blocks, marks


def _flagged(text: str, start: int, check: dict[str, Any] | None, notes: list[str]) -> str:
    """`text` (which starts at `start` in the draft) with its flagged spans marked; each span's
    reason is appended to `notes`, and its footnote is numbered after the notes before it."""
    out, at = [], 0
    for mark in marks(check):
        a, b = mark.start - start, mark.end - start
        if a < at or b > len(text):
            continue
        notes.append(f"{'数字' if mark.kind == 'bad' else '表述'}“{mark.text}”：{mark.reason}")
        out += [text[at:a], f"⚠**{text[a:b]}**⚠[^{len(notes)}]"]
        at = b
    return "".join(out) + text[at:]


def to_markdown(text: str, check: dict[str, Any] | None = None) -> str:
    """Title as `#`, 一、 headings as `##`, the rest as paragraphs (the words unchanged); the
    flagged spans marked, their reasons as footnotes under 核对发现."""
    parts: list[str] = []
    reasons: list[str] = []
    for block in blocks(text):
        body = _flagged(block.text, block.start, check, reasons)
        if block.kind == "title":
            parts.append(f"# {body.strip()}")
        elif block.kind == "h1":
            parts.append(f"## {body.strip()}")
        elif block.kind == "h2" and block.lead != block.text and body.startswith(block.lead):
            parts.append(f"**{block.lead.strip()}**{body[len(block.lead):]}")
        elif block.kind == "h2":
            parts.append(f"### {body.strip()}")
        else:
            parts.append(body)
    if reasons:
        parts.append("---\n\n**核对发现**（⚠ 标出的内容在要点中找不到依据，请修改或删去）：")
        parts += [f"[^{i}]: {reason}" for i, reason in enumerate(reasons, 1)]
    return "\n\n".join(parts) + "\n"
