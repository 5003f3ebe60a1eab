"""The user's own past summaries (.txt, .md, .docx, .pdf) as `Summary` objects.

A file may hold several summaries: a new one starts at a title line (a Markdown `# ` heading,
a docx Title/Heading 1 paragraph, or a short line naming a 工会…总结) or after a `---` rule.
Title, org level and period are inferred from the text; what cannot be inferred is reported
in Chinese rather than asked for.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from drafting.retrieval.corpus import QUALITY_USER, Summary
from drafting.text import RequestError, clean_text, decode_bytes

SUFFIXES = (".txt", ".md", ".docx", ".pdf")
MAX_FILE_MB = 20  # a year's summary is well under 1 MB, even as a PDF with pictures
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


def read_text(name: str, data: bytes) -> str:
    """A file's text from its name and bytes; docx titles/headings become Markdown `#` lines."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UserFileError(f"{name}：不支持的文件类型（仅支持 .txt、.md、.docx、.pdf）")
    if suffix == ".docx":
        return _docx_text(name, data)
    if suffix == ".pdf":
        return _pdf_text(name, data)
    try:
        text = decode_bytes(data)
    except RequestError as exc:
        raise UserFileError(f"{name}：{exc}") from exc
    return clean_text(text)


def _docx_text(name: str, data: bytes) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types for broken files
        raise UserFileError(f"{name}：不是有效的 Word（.docx）文件，无法打开") from exc
    lines = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "").lower()
        text = paragraph.text.strip()
        if text and (style == "title" or style == "heading 1"):
            text = f"# {text}"
        lines.append(text)
    return clean_text("\n".join(lines))


def _pdf_text(name: str, data: bytes) -> str:
    """The text layer of a PDF, page by page (a scanned PDF has none: said so, not guessed)."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except Exception as exc:  # pdfium raises PdfiumError, and others for truncated files
        raise UserFileError(f"{name}：不是有效的 PDF 文件，无法打开") from exc
    try:
        pages = [_unwrap(clean_text(document[i].get_textpage().get_text_range())) for i in range(len(document))]
    finally:
        document.close()
    text = "\n".join(pages)
    if pages and not text.strip():
        raise UserFileError(f"{name}：PDF 中没有文字层（可能是扫描件），无法读取；请上传 Word 或文本版本")
    return text


_PDF_GAP = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])[ \t]+(?=[0-9A-Za-z%.])"
                      r"|(?<=[0-9A-Za-z%.])[ \t]+(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")
_SENTENCE_END = "。！？；：!?;:」』”）)"


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _unwrap(page: str) -> str:
    """A PDF page's lines as paragraphs: a line as wide as the page's widest that does not end a
    sentence was wrapped, and joins the next; the spaces a PDF puts between Chinese and digits go."""
    lines = [_PDF_GAP.sub("", line.strip()) for line in page.split("\n")]
    full = max((_width(line) for line in lines), default=0) - 4
    out: list[str] = []
    joining = False
    for line in lines:
        if joining:
            out[-1] += line
        else:
            out.append(line)
        joining = bool(line) and _width(line) >= full and not line.endswith(tuple(_SENTENCE_END))
    return "\n".join(out)


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
    """Read and split one file on disk (`index add`); its summaries are shared with every user.
    Raises `UserFileError` when it cannot be read at all."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserFileError(f"{path.name}：无法读取文件（{exc.strerror or exc}）") from exc
    return parse_upload(path.name, data, key=str(path.resolve()))


def check_size(name: str, data: bytes) -> None:
    """Refuse a file larger than `MAX_FILE_MB` (uploaded summaries and material alike)."""
    if len(data) > MAX_FILE_MB * 1024 * 1024:
        raise UserFileError(f"{name}：文件太大（{len(data) / 1024 / 1024:.0f} MB，上限 {MAX_FILE_MB} MB）")


def parse_upload(name: str, data: bytes, owner: str = "", key: str = "") -> ParsedFile:
    """Read and split one file's bytes. Its summaries belong to `owner` ("" shared); their ids come
    from `key` (default: the owner and the name), so adding the same file again replaces it and
    two users' files of one name stay apart."""
    check_size(name, data)
    text = read_text(name, data)
    parsed = ParsedFile(path=Path(name))
    if not text.strip():
        raise UserFileError(f"{name}：文件是空的")
    key = hashlib.sha1((key or f"{owner}\n{name}").encode("utf-8")).hexdigest()[:10]
    found = _split(text)
    for n, (title, body) in enumerate(found, 1):
        label = f"{name} 第{n}篇" if len(found) > 1 else name
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
                title=title or Path(name).stem,
                org_level=org_level,
                period=period,
                text="\n".join(body),
                quality=QUALITY_USER,
                source="user",
                owner=owner,
            )
        )
    return parsed
