"""Bullets proposed from the clerk's material: a report (.docx/.txt/.md/.pdf) or a table of
figures (.xlsx/.csv).

Deterministic: a sentence of a report, or a row of a table, becomes a proposed bullet when it
carries a figure or names an activity; nothing is rewritten, so every figure keeps the exact
text the checker will trace. The model is never asked. The clerk ticks which to keep and under
which heading, and `merge_into` adds them to the bullets without touching what was typed.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from drafting.checker.extract import extract
from drafting.flow.request import split_heading, strip_bullet_marker
from drafting.retrieval.sections import strip_enumerator
from drafting.retrieval.userdocs import SUFFIXES as TEXT_SUFFIXES
from drafting.retrieval.userdocs import UserFileError, check_size, read_text
from drafting.text import RequestError, decode_bytes

TABLE_SUFFIXES = (".xlsx", ".csv")
SUFFIXES = (*TEXT_SUFFIXES, *TABLE_SUFFIXES)
MAX_PROPOSALS = 200
MIN_CHARS, MAX_CHARS = 6, 150
_SENTENCE = re.compile(r"[^。！？；;!?\n]+[。！？；;!?]?")
_ACTIVITY = re.compile(r"开展|举办|组织|召开|慰问|走访|建立|新建|组建|发放|完成|培训|签订|表彰|评选|推进|落实|"
                       r"成立|启动|帮扶|救助|竞赛|比武|宣传|调研|检查|送温暖|疗休养|服务")
_COUNTED = ("quantity", "range", "date", "month", "day", "ratio", "fraction")
_CIRCLED = re.compile(r"^[①-⑳]\s*")
_TITLE = re.compile(r"(?:简报|总结|报告|通报|情况|汇报|要点|计划)$")
_UNIT_CELL = re.compile(r"^[\u4e00-\u9fff%％]{1,3}$")


@dataclass(frozen=True)
class Proposal:
    """One proposed bullet and where in the material it was found (shown to the clerk)."""

    text: str
    source: str


def _worth_keeping(sentence: str) -> bool:
    return any(f.kind in _COUNTED for f in extract(sentence)) or bool(_ACTIVITY.search(sentence))


def _from_text(text: str) -> list[Proposal]:
    out: list[Proposal] = []
    for n, paragraph in enumerate((p for p in text.split("\n") if p.strip()), 1):
        for match in _SENTENCE.finditer(paragraph):
            sentence = _CIRCLED.sub("", strip_enumerator(strip_bullet_marker(match.group().strip().lstrip("#").strip())))
            sentence = sentence.rstrip("。；;")
            if _TITLE.search(sentence) and not re.search(r"[，,、：:]", sentence):  # a heading, not a fact
                continue
            if MIN_CHARS <= len(sentence) <= MAX_CHARS and _worth_keeping(sentence):
                out.append(Proposal(sentence, f"第 {n} 段"))
    return out


def _cell(value: Any) -> str:
    """A cell as the table shows it: 12.0 → 12, 36.5 stays, text trimmed."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, float):
        value = Decimal(repr(value)).normalize()
    return str(value).strip() if value is not None else ""


def _number(text: str) -> bool:
    try:
        Decimal(text.replace(",", ""))
    except InvalidOperation:
        return False
    return True


def _row_bullet(header: list[str], row: list[str]) -> str:
    """A table row as one bullet: its label, then each figure with its unit cell or column name
    (项目 新建工会 | 数量 12 | 单位 家 → 新建工会12家; 单位 东湖街道 | 慰问户数 120 → 东湖街道，慰问户数120)."""
    parts: list[str] = []
    skip = set()
    for i, value in enumerate(row):
        if i in skip or not value:
            continue
        if _number(value):
            nxt = row[i + 1] if i + 1 < len(row) else ""
            if nxt and _UNIT_CELL.match(nxt) and not _number(nxt):
                parts.append(f"{value}{nxt}")
                skip.add(i + 1)
            else:
                parts.append(f"{header[i] if i < len(header) else ''}{value}")
        else:
            parts.append(value)
    joined = ""
    for part in parts:  # a label runs into its figure (新建工会12家); labels and figures are separated by ，
        joined += part if joined and _number(part[:1]) else ("，" if joined else "") + part
    return joined


def _from_rows(rows: list[list[str]], sheet: str) -> list[Proposal]:
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    header = rows[0] if not any(_number(c) for c in rows[0]) else []
    out = []
    for n, row in enumerate(rows[1:] if header else rows, 2 if header else 1):
        if any(_number(c) for c in row) and (bullet := _row_bullet(header, row)):
            out.append(Proposal(bullet, f"{sheet}第 {n} 行"))
    return out


def _from_xlsx(name: str, data: bytes) -> list[Proposal]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own types for broken files
        raise UserFileError(f"{name}：不是有效的 Excel（.xlsx）文件，无法打开") from exc
    out = []
    for sheet in book.worksheets:
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        out += _from_rows(rows, f"{sheet.title} " if len(book.worksheets) > 1 else "")
    return out


def _from_csv(name: str, data: bytes) -> list[Proposal]:
    try:
        text = decode_bytes(data)
    except RequestError as exc:
        raise UserFileError(f"{name}：{exc}") from exc
    return _from_rows([[c.strip() for c in row] for row in csv.reader(io.StringIO(text))], "")


def propose(name: str, data: bytes) -> list[Proposal]:
    """The bullets proposed from one file, in the material's order, without repeats; raises
    `UserFileError` (Chinese) for a file that cannot be read or holds nothing usable."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UserFileError(f"{name}：不支持的文件类型（支持 Word、PDF、文本、Markdown、Excel .xlsx 和 .csv）")
    check_size(name, data)
    if suffix == ".xlsx":
        found = _from_xlsx(name, data)
    elif suffix == ".csv":
        found = _from_csv(name, data)
    else:
        found = _from_text(read_text(name, data))
    first: dict[str, Proposal] = {}  # a repeated sentence keeps its first source
    for proposal in found:
        first.setdefault(proposal.text, proposal)
    unique = list(first.values())
    if not unique:
        raise UserFileError(f"{name}：没有找到带数字或工作事项的句子，无法生成要点")
    return unique[:MAX_PROPOSALS]


def merge_into(facts_text: str, placed: list[tuple[str, str]]) -> str:
    """`facts_text` with each (bullet, heading) added: after that heading's last line when the
    heading is there, else under a new `# heading` at the end; with no heading, among the
    bullets before the first heading (the planner places those)."""
    lines = facts_text.rstrip("\n").split("\n") if facts_text.strip() else []
    for bullet, heading in placed:
        headings = [split_heading(line.strip())[0] for line in lines]  # the page's own rules: # and 【】
        if not heading:
            lines.insert(next((i for i, h in enumerate(headings) if h is not None), len(lines)), bullet)
            continue
        at = next((i for i, h in enumerate(headings) if h == heading), None)
        if at is None:
            lines += [f"# {heading}", bullet]
            continue
        end = next((j for j in range(at + 1, len(lines)) if headings[j] is not None), len(lines))
        while end > at + 1 and not lines[end - 1].strip():
            end -= 1
        lines.insert(end, bullet)
    return "\n".join(lines)
