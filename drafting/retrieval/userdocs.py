"""The user's own past summaries (.txt, .md, .docx) as `Summary` objects.

A file may hold several summaries: a new one starts at a title line (a Markdown `# ` heading,
a docx Title/Heading 1 paragraph, or a short line naming a 工会…总结) or after a `---` rule.
Title, org level and period are inferred from the text; what cannot be inferred is reported
in Chinese rather than asked for.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from drafting.flow.request import RequestError, clean_text, decode_bytes
from drafting.retrieval.corpus import QUALITY_USER, Summary

SUFFIXES = (".txt", ".md", ".docx")
MIN_SUMMARY_CHARS = 200

# Org levels as the corpus spells them; the first pattern found in the title, else in the
# opening, wins (the most specific bodies first).
_ORG_LEVELS: tuple[tuple[str, str], ...] = (
    (r"医院", "医院工会"),
    (r"高校|大学|学院|学校", "高校工会小组"),
    (r"集团|公司|企业工会|厂工会", "集团公司工会"),
    (r"街道|社区", "街道(总)工会"),
    (r"镇|乡", "镇(总)工会"),
    (r"区总工会|区工会|新区", "区总工会"),
    (r"县总工会|县工会", "县总工会"),
    (r"市总工会|市工会", "市总工会"),
)
_PERIODS: tuple[tuple[str, str], ...] = (
    (r"上半年|半年", "上半年"),
    (r"下半年", "下半年"),
    (r"前三季度", "前三季度"),
    (r"第[一二三四]季度", "季度"),
    (r"年度|全年|年终|一年来|\d{4}年工作总结|年工作总结", "年度"),
)
_TITLE = re.compile(r"^(?=.{4,40}$)(?!.*[。；;，,：:]$)(?=.*(?:工会|\d{4}|[xX]{2}年)).*(?:总结|报告)")
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|={3,}|_{3,})\s*$")
_MD_HEADING = re.compile(r"^\s*(#{1,6})\s*(.*?)\s*#*\s*$")


class UserFileError(RequestError):
    """A file that cannot be read at all (the message is Chinese)."""


@dataclass
class ParsedFile:
    path: Path
    summaries: list[Summary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be parsed or inferred


def read_text(path: Path) -> str:
    """The file's text; docx titles/headings become Markdown `#` lines."""
    if path.suffix.lower() not in SUFFIXES:
        raise UserFileError(f"{path.name}：不支持的文件类型（仅支持 .txt、.md、.docx）")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserFileError(f"{path.name}：无法读取文件（{exc.strerror or exc}）") from exc
    if path.suffix.lower() == ".docx":
        return _docx_text(path, data)
    try:
        text = decode_bytes(data)
    except RequestError as exc:
        raise UserFileError(f"{path.name}：{exc}") from exc
    return clean_text(text)


def _docx_text(path: Path, data: bytes) -> str:
    import io

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types for broken files
        raise UserFileError(f"{path.name}：不是有效的 Word（.docx）文件，无法打开") from exc
    lines = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "").lower()
        text = paragraph.text.strip()
        if text and (style == "title" or style == "heading 1"):
            text = f"# {text}"
        lines.append(text)
    return clean_text("\n".join(lines))


def infer_org_level(text: str) -> str:
    """The corpus org level named in a title or opening (街道(总)工会, 区总工会 …), else ""."""
    for label_pattern, level in _ORG_LEVELS:
        if re.search(label_pattern, text):
            return level
    return ""


def infer_period(text: str) -> str:
    """上半年 / 下半年 / 前三季度 / 季度 / 年度 named in a title or opening, else ""."""
    for pattern, period in _PERIODS:
        if re.search(pattern, text):
            return period
    return ""


def _split(text: str) -> list[tuple[str, list[str]]]:
    """(title, body lines) for each summary in a file's text."""
    found: list[tuple[str, list[str]]] = []
    title: str = ""
    body: list[str] = []

    def body_chars() -> int:
        return sum(len(line) for line in body)

    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if _RULE.match(line):
            if body:
                found.append((title, body))
            title, body = "", []
            continue
        md = _MD_HEADING.match(line)
        is_title = (md is not None and len(md.group(1)) == 1) or (md is None and bool(_TITLE.match(line)))
        if md is not None:
            line = md.group(2)
        if is_title and (not body or body_chars() >= MIN_SUMMARY_CHARS):
            if body:
                found.append((title, body))
            title, body = line, []
        elif line:
            body.append(line)
    if body:
        found.append((title, body))
    return found


def parse_file(path: str | Path) -> ParsedFile:
    """Read and split one user file; raises `UserFileError` when it cannot be read at all."""
    path = Path(path)
    text = read_text(path)
    parsed = ParsedFile(path=path)
    if not text.strip():
        raise UserFileError(f"{path.name}：文件是空的")
    key = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:10]
    found = _split(text)
    for n, (title, body) in enumerate(found, 1):
        label = f"{path.name} 第{n}篇" if len(found) > 1 else path.name
        chars = sum(len(line) for line in body)
        if chars < MIN_SUMMARY_CHARS:
            parsed.notes.append(f"{label}：正文只有 {chars} 字（少于 {MIN_SUMMARY_CHARS} 字），未加入索引")
            continue
        head = f"{title}\n{''.join(body)[:300]}"
        org_level, period = infer_org_level(title) or infer_org_level(head), infer_period(title) or infer_period(head)
        if not org_level:
            parsed.notes.append(f"{label}：未能判断单位层级（街道、区县、企业等），检索时不按层级加权")
        if not period:
            parsed.notes.append(f"{label}：未能判断总结期间（上半年、全年等），检索时不按期间加权")
        if not title:
            parsed.notes.append(f"{label}：没有找到标题行，以文件名作标题")
        parsed.summaries.append(
            Summary(
                id=f"user-{key}-{n}",
                title=title or path.stem,
                org_level=org_level,
                period=period,
                text="\n".join(body),
                quality=QUALITY_USER,
                source="user",
            )
        )
    return parsed
