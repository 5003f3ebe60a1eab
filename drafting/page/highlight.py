"""HTML views of a draft for the page: checked figures and claims marked in place, and a diff
of two versions.

Everything taken from the draft or the report is escaped. Unsupported or misattributed figures
are red, claims no bullet grounds (invented work, prompt text) violet; both carry the checker's
reason as a tooltip and a number that points to the list beside the text; warnings are
underlined in amber.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from html import escape
from typing import Any

from drafting.export import blocks

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def md_escape(text: str) -> str:
    """`text` shown literally inside Markdown (user bullets, titles): specials backslashed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


STYLE = """<style>
.draft-doc{font-family:"FangSong","STFangsong","仿宋","Noto Serif CJK SC","Source Han Serif SC",serif;
  font-size:17px;line-height:1.95;color:#1f2328;background:#fff;border:1px solid #e3e3e8;border-radius:10px;
  padding:28px 36px;max-width:860px}
.draft-doc p{margin:0 0 .2em 0;text-indent:2em;text-align:justify}
.draft-doc p.d-title{text-indent:0;text-align:center;font-size:22px;font-weight:700;margin:.2em 0 .8em 0;
  font-family:"Noto Serif CJK SC","Source Han Serif SC","SimSun",serif}
.draft-doc p.d-h1{font-family:"SimHei","Heiti SC","Noto Sans CJK SC",sans-serif;font-weight:600}
.draft-doc .d-h2{font-family:"KaiTi","STKaiti","楷体",serif;font-weight:600}
.draft-doc mark{padding:0 2px;border-radius:3px;cursor:help}
.draft-doc mark.bad{background:#fde2e1;color:#b42318;box-shadow:inset 0 -2px 0 #d92d20}
.draft-doc mark.warn{background:transparent;color:inherit;border-bottom:2px dotted #dc6803}
.draft-doc mark.claim{background:#ece4fb;color:#5925dc;box-shadow:inset 0 -2px 0 #7a5af8}
.draft-doc mark sup{font-size:11px;font-weight:700;margin-left:1px;font-family:sans-serif}
.fig-list{margin:.2em 0 .6em 0;padding:0;list-style:none;font-size:14.5px}
.fig-list li{margin:.25em 0;line-height:1.6}
.fig-list .no{display:inline-block;min-width:1.6em;height:1.6em;line-height:1.6em;text-align:center;
  border-radius:50%;background:#d92d20;color:#fff;font-size:12px;font-weight:700;margin-right:.45em}
.fig-list .no.claim{background:#7a5af8}
.fig-list .fig{color:#b42318;font-weight:600}
.fig-list .fig.claim{color:#5925dc}
.fig-list .src{color:#667085}
.diff-doc{font-size:15px;line-height:1.9;border:1px solid #e3e3e8;border-radius:10px;padding:18px 24px;background:#fff}
.diff-doc p{margin:0 0 .35em 0}
.diff-doc del{background:#fde2e1;color:#b42318;text-decoration:line-through}
.diff-doc ins{background:#dcfae6;color:#067647;text-decoration:none}
.diff-doc p.same{color:#667085}
.diff-doc p.gap{color:#98a2b3;text-align:center}
</style>"""


@dataclass(frozen=True)
class Mark:
    start: int
    end: int
    css: str
    reason: str
    number: int | None  # shown for unsupported figures only


def findings_in_order(check: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """("bad" | "claim", finding) sorted by position: item n is the span marked n in the text."""
    items = [("bad", f) for f in check.get("unsupported", [])] + [("claim", c) for c in check.get("claims", [])]
    return sorted(items, key=lambda item: (int(item[1].get("start", 0)), int(item[1].get("end", 0))))


def _marks(text: str, check: dict[str, Any]) -> list[Mark]:
    """Non-overlapping marks in text order; figures win over claims, claims over warnings."""
    numbered: list[tuple[dict[str, Any], str, int | None]] = [
        (f, css, n) for n, (css, f) in enumerate(findings_in_order(check), 1)]
    items = sorted(numbered, key=lambda item: item[1] != "bad")
    items += [(f, "warn", None) for f in check.get("warnings", [])]
    chosen: list[Mark] = []
    for finding, css, number in items:
        start, end = int(finding.get("start", -1)), int(finding.get("end", -1))
        if not 0 <= start < end <= len(text) or any(start < m.end and m.start < end for m in chosen):
            continue
        chosen.append(Mark(start, end, css, str(finding.get("reason", "")), number))
    return sorted(chosen, key=lambda m: m.start)


def _marked(text: str, offset: int, marks: list[Mark]) -> str:
    """`text` (which starts at `offset` in the draft) escaped, with the marks that fall in it."""
    out, pos = [], 0
    for mark in marks:
        s, e = mark.start - offset, mark.end - offset
        if s < pos or e > len(text):
            continue
        out.append(escape(text[pos:s]))
        sup = f"<sup>{mark.number}</sup>" if mark.number else ""
        out.append(f'<mark class="{mark.css}" title="{escape(mark.reason)}">{escape(text[s:e])}{sup}</mark>')
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out)


def draft_html(text: str, check: dict[str, Any]) -> str:
    """The draft as formatted paragraphs with the check's findings marked in place."""
    marks = _marks(text, check)
    parts = []
    for block in blocks(text):
        inside = [m for m in marks if block.start <= m.start and m.end <= block.start + len(block.text)]
        if block.kind == "h2" and block.lead != block.text:
            lead = _marked(block.lead, block.start, inside)
            rest = _marked(block.text[len(block.lead):], block.start + len(block.lead), inside)
            parts.append(f'<p class="d-body"><span class="d-h2">{lead}</span>{rest}</p>')
        else:
            css = {"title": "d-title", "h1": "d-h1", "h2": "d-h2"}.get(block.kind, "d-body")
            parts.append(f'<p class="{css}">{_marked(block.text, block.start, inside)}</p>')
    return f'{STYLE}<div class="draft-doc">{"".join(parts)}</div>'


def findings_html(check: dict[str, Any]) -> str:
    """The numbered list of unsupported figures and claims with their reasons (the numbers in the text)."""
    rows = []
    for n, (css, finding) in enumerate(findings_in_order(check), 1):
        source = ""
        if finding.get("fact"):
            source = f'<span class="src">（对照要点：{escape(finding["fact"])}）</span>'
        rows.append(f'<li><span class="no {css}">{n}</span><span class="fig {css}">“{escape(finding.get("text", ""))}”</span>'
                    f'：{escape(finding.get("reason", ""))}{source}</li>')
    return f'{STYLE}<ul class="fig-list">{"".join(rows)}</ul>'


_TOKEN = re.compile(r"\d+(?:\.\d+)?|[A-Za-z]+|.", re.S)


def _inline_diff(old: str, new: str) -> str:
    """Changes inside one paragraph; a number or a Latin word changes as a whole (120 → 150)."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    out = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape("".join(a[a1:a2])))
            continue
        if a2 > a1:
            out.append(f"<del>{escape(''.join(a[a1:a2]))}</del>")
        if b2 > b1:
            out.append(f"<ins>{escape(''.join(b[b1:b2]))}</ins>")
    return "".join(out)


def diff_html(old: str, new: str, context: int = 1) -> str:
    """Paragraph-level diff of two versions with character-level changes inside changed paragraphs.

    Unchanged paragraphs more than `context` paragraphs away from a change are folded into “……”.
    """
    a = [line for line in old.split("\n") if line.strip()]
    b = [line for line in new.split("\n") if line.strip()]
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if a == b:
        return f'{STYLE}<div class="diff-doc"><p class="same">两个版本的正文完全相同。</p></div>'
    parts: list[str] = []
    for group in matcher.get_grouped_opcodes(context):
        if parts or group[0][1] > 0:
            parts.append('<p class="gap">……</p>')
        for op, a1, a2, b1, b2 in group:
            if op == "equal":
                parts += [f'<p class="same">{escape(line)}</p>' for line in a[a1:a2]]
            elif op == "replace" and a2 - a1 == b2 - b1:
                parts += [f"<p>{_inline_diff(x, y)}</p>" for x, y in zip(a[a1:a2], b[b1:b2])]
            else:
                parts += [f"<p><del>{escape(line)}</del></p>" for line in a[a1:a2]]
                parts += [f"<p><ins>{escape(line)}</ins></p>" for line in b[b1:b2]]
    if group[-1][2] < len(a):
        parts.append('<p class="gap">……</p>')
    return f'{STYLE}<div class="diff-doc">{"".join(parts)}</div>'
