"""Stage 1 — parse: the user's bullets (a FACTS.txt or JSON) into a `DraftRequest`.

FACTS.txt: one bullet per line; leading `-`, `•`, `*`, `1.`, `1、` markers are stripped; a line
starting with `#` or `【…】` is a heading that groups the bullets below it; blank lines are
ignored. User headings and their order win over any automatic grouping.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drafting.text import RequestError, clean_text, decode_bytes

PERIODS = ("上半年", "下半年", "全年", "前三季度", "第一季度", "第二季度", "第三季度", "第四季度", "1-8月")
MAX_BULLETS = 200
MAX_BULLET_CHARS = 500
MAX_TOTAL_CHARS = 20_000

_BULLET_MARK = re.compile(r"^\s*(?:[-–—•·*＊●○◆■]+\s*|\d{1,2}(?:[、，,]|[.．](?!\d))\s*|[（(]\d{1,2}[)）]\s*)")
_HEADING_HASH = re.compile(r"^\s*#+\s*(.*?)\s*#*\s*$")
_HEADING_BRACKET = re.compile(r"^\s*【([^】]{1,40})】\s*(.*)$")
# C0/C1 control characters except tab and newline, zero-width and bidi controls.
# C0/C1 controls, zero-width and bidirectional marks, embeddings and isolates (U+2066–2069),
# invisible operators: none belongs in a summary, and bidi controls can disguise text.


@dataclass
class SectionInput:
    """A group of bullets under an optional user heading."""

    title: str | None
    facts: list[str] = field(default_factory=list)


@dataclass
class DraftRequest:
    org: str
    period: str
    year: int | None
    sections: list[SectionInput]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def facts(self) -> list[str]:
        return [fact for section in self.sections for fact in section.facts]

    @property
    def has_user_headings(self) -> bool:
        return any(section.title for section in self.sections)

    def field_texts(self) -> list[str]:
        """The request fields as text, so the checker accepts figures stated in them."""
        texts = [self.org, self.period]
        if self.year is not None:
            texts.append(f"{self.year}年")
        return [t for t in texts if t]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def strip_bullet_marker(line: str) -> str:
    return _BULLET_MARK.sub("", line, count=1).strip()


def split_heading(line: str) -> tuple[str | None, str]:
    """(heading, rest) for a heading line (`# 组织建设`, `【组织建设】` with the line's rest),
    else (None, "")."""
    if m := _HEADING_HASH.match(line):
        return m.group(1), ""
    if m := _HEADING_BRACKET.match(line):
        return m.group(1).strip(), m.group(2).strip()
    return None, ""


def parse_facts_text(text: str) -> list[SectionInput]:
    """Split FACTS.txt content into sections of bullets, in the user's order."""
    sections: list[SectionInput] = [SectionInput(title=None)]
    for raw in clean_text(text).split("\n"):
        line = raw.strip()
        if not line:
            continue
        heading, rest = split_heading(line)
        if heading is not None:
            if heading:
                sections.append(SectionInput(title=heading))
            if rest:
                sections[-1].facts.append(strip_bullet_marker(rest))
            continue
        bullet = strip_bullet_marker(line)
        if bullet:
            sections[-1].facts.append(bullet)
    return [s for s in sections if s.facts or s.title]


def validate_facts(sections: list[SectionInput]) -> None:
    facts = [f for s in sections for f in s.facts]
    if not facts:
        raise RequestError("没有可用的要点：请至少输入一条工作要点（每行一条）。")
    if len(facts) > MAX_BULLETS:
        raise RequestError(f"要点过多：共 {len(facts)} 条，最多 {MAX_BULLETS} 条。请合并或分批生成。")
    for fact in facts:
        if len(fact) > MAX_BULLET_CHARS:
            raise RequestError(
                f"有一条要点过长（{len(fact)} 字，上限 {MAX_BULLET_CHARS} 字）：“{fact[:20]}…”。请拆成几条。"
            )
    total = sum(len(f) for f in facts)
    if total > MAX_TOTAL_CHARS:
        raise RequestError(f"要点总字数过多（{total} 字，上限 {MAX_TOTAL_CHARS} 字）。请精简或分批生成。")


def parse_year(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        year = int(str(value).strip().rstrip("年"))
    except ValueError as exc:
        raise RequestError(f"年份格式不对：{value!r}，请写成 2024 这样的四位数字。") from exc
    if not 1949 <= year <= 2100:
        raise RequestError(f"年份 {year} 不在合理范围内（1949–2100）。")
    return year


def build_request(
    org: str,
    period: str,
    year: Any,
    sections: list[SectionInput],
    options: dict[str, Any] | None = None,
) -> DraftRequest:
    org = clean_text(org or "").strip()
    period = clean_text(period or "").strip()
    if not org:
        raise RequestError("请填写单位名称（如“某某街道总工会”）。")
    if len(org) > 60:
        raise RequestError("单位名称过长（上限 60 字）。")
    if not period:
        raise RequestError("请填写总结期间（如“上半年”或“全年”）。")
    if len(period) > 20:
        raise RequestError("总结期间过长（上限 20 字）。")
    cleaned = [
        SectionInput(
            title=clean_text(s.title).strip() or None if s.title else None,
            facts=[strip_bullet_marker(clean_text(f)) for f in s.facts if clean_text(f).strip()],
        )
        for s in sections
    ]
    validate_facts(cleaned)
    return DraftRequest(org=org, period=period, year=parse_year(year), sections=cleaned, options=dict(options or {}))


def request_from_file(path: str | Path, org: str, period: str, year: Any, options: dict[str, Any] | None = None) -> DraftRequest:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RequestError(f"读不到要点文件 {path}：{exc.strerror or exc}") from exc
    return build_request(org, period, year, parse_facts_text(decode_bytes(data)), options)


def request_from_json(payload: dict[str, Any]) -> DraftRequest:
    """The HTTP/JSON shape: `facts: [str]` or `sections: [{title, facts}]`."""
    if not isinstance(payload, dict):
        raise RequestError("请求应为 JSON 对象。")
    if payload.get("sections") and payload.get("facts"):
        raise RequestError("facts 与 sections 只能提供其中一种：要么是一列要点，要么是带小标题的分节要点。")
    if payload.get("sections"):
        raw_sections = payload["sections"]
        if not isinstance(raw_sections, list):
            raise RequestError("sections 应为列表。")
        sections = []
        for item in raw_sections:
            if not isinstance(item, dict) or not isinstance(item.get("facts", []), list):
                raise RequestError("sections 中每一项应为 {\"title\": …, \"facts\": [...]}。")
            sections.append(SectionInput(title=item.get("title") or None, facts=[str(f) for f in item.get("facts", [])]))
    else:
        facts = payload.get("facts")
        if not isinstance(facts, list):
            raise RequestError("请提供 facts（要点列表）或 sections。")
        sections = [SectionInput(title=None, facts=[str(f) for f in facts])]
    return build_request(payload.get("org", ""), payload.get("period", ""), payload.get("year"), sections, payload.get("options"))
