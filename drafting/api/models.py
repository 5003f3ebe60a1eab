"""The JSON shapes of the HTTP API (design.md "Interfaces"), as pydantic models for the OpenAPI schema.

Requests are validated by these models for shape and per-field limits, then by
`drafting.flow.request` for everything else (the same checks as the page and the CLI). Responses
are built from the library's own `to_dict()` output and written by `FastJSON`; the models
describe them.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from drafting.flow.request import MAX_BULLET_CHARS, MAX_BULLETS, MAX_TOTAL_CHARS
from drafting.store import DONE, Draft


class FastJSON(JSONResponse):
    """JSON written with orjson (a check report runs to ~10 KB; this is the API's hot path).

    orjson refuses integers beyond 64 bits, which a bullet's figure can be
    (新建工会99999999999999999999家): those responses go through the standard encoder.
    """

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return super().render(content)


MAX_DRAFT_CHARS = 50_000  # a draft sent to /v1/check
MAX_QUERY_CHARS = 2_000  # the text of /v1/examples?q=
MAX_EXAMPLES_K = 20

Fact = Annotated[str, Field(max_length=MAX_BULLET_CHARS, description="一条工作要点")]
FactList = Annotated[list[Fact], Field(max_length=MAX_BULLETS)]
Org = Annotated[str, Field(min_length=1, max_length=60, description="单位名称，如“东湖街道总工会”")]
Period = Annotated[str, Field(min_length=1, max_length=20, description="总结期间：上半年、下半年、全年、前三季度……")]
Year = Annotated[int, Field(ge=1949, le=2100)] | Annotated[str, Field(max_length=8)] | None


def _whole_year(value: Any) -> Any:
    """2024.0 is 2024; 2024.5 gets one message (not "should be an integer" and "should be text")."""
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("年份应为四位整数，如 2024")
        return int(value)
    return value


class SectionIn(BaseModel):
    title: Annotated[str, Field(max_length=40)] | None = Field(None, description="用户自己的小标题（按用户顺序成节）")
    facts: FactList = Field(default_factory=list)


class DraftOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: Literal["sectioned", "whole"] = Field("sectioned", description="sectioned：逐节调用模型；whole：一次写全文")
    target_chars: Annotated[int, Field(ge=200, le=20_000)] | None = Field(None, description="目标字数")
    examples: Annotated[int, Field(ge=0, le=8)] = Field(2, description="每节检索的往年范文段数（只借鉴措辞）")
    derive: bool = Field(False, description="由系统计算同比增减和占比（要点中写有“去年同期”“其中”的数字），"
                                            "附在该条要点后，notes 中说明由系统计算；模型自己算出的百分比仍标为无依据")


class DraftIn(BaseModel):
    """`facts` (a flat list) or `sections` (bullets under the user's own headings)."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["facts"]}, {"required": ["sections"]}]})

    org: Org
    period: Period
    year: Year = None
    facts: Annotated[FactList, Field(min_length=1)] | None = Field(
        None, description=f"要点，最多 {MAX_BULLETS} 条、总计 {MAX_TOTAL_CHARS} 字")
    sections: Annotated[list[SectionIn], Field(min_length=1, max_length=MAX_BULLETS)] | None = None
    options: DraftOptions = Field(default_factory=DraftOptions)

    _year = field_validator("year", mode="before")(staticmethod(_whole_year))


class CheckIn(BaseModel):
    facts: FactList
    draft: Annotated[str, Field(max_length=MAX_DRAFT_CHARS)]
    org: Org | None = None
    period: Period | None = None
    year: Year = None

    _year = field_validator("year", mode="before")(staticmethod(_whole_year))


class FigureOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    text: str
    start: int
    end: int
    cls: str = Field(alias="class", description="FACT / STRUCTURE / LEXICON / SOFT / PLACEHOLDER")
    kind: str
    value: int | float | str | None = Field(description="数值；超出 64 位整数或浮点精度时为原样的数字文本")
    unit: str
    hedge: str
    scale: int
    value2: int | float | str | None = None
    note: str | None = None


class FindingOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    text: str
    start: int = Field(description="草稿中的字符位置（从 0 起）")
    end: int
    reason: str
    cls: str = Field(alias="class")
    source: str | None = None
    fact: str | None = None
    misattributed: bool | None = Field(default=None, description="数字见于要点，但写在了另一条要点的事项上")


class MissingOut(BaseModel):
    text: str
    fact: str


class ClaimOut(BaseModel):
    """A clause stating work, an event, a title, a body or a result that no bullet or request
    field supports, or text that is not content (prompt words, meta-text, source notes)."""

    text: str
    start: int = Field(description="草稿中的字符位置（从 0 起）")
    end: int
    reason: str
    kind: str = Field(description="work（工作、活动、成效）/ name（名称）/ body（单位）/ meta（提示词、说明文字）/ framing（指导思想、会议精神）")


class CheckOut(BaseModel):
    """The `check --json` object. `ok` is false when `unsupported` or `claims` is non-empty."""

    ok: bool
    figures: list[FigureOut]
    unsupported: list[FindingOut] = Field(description="找不到依据的数字，以及写在别的事项上的数字（张冠李戴）")
    claims: list[ClaimOut] = Field(description="要点中找不到依据的工作、活动、名称、单位、成效，以及提示词、说明文字")
    work_clauses: int = Field(description="正文中陈述工作的分句数（核对了是否见于要点）")
    missing: list[MissingOut]
    warnings: list[FindingOut]


class SectionOut(BaseModel):
    heading: str
    facts: list[str]
    text: str
    raw_text: str
    seconds: float
    completion_tokens: int
    repairs: list[dict[str, Any]]
    examples: list[str]
    kind: str


class ExampleOut(BaseModel):
    """A past summary's section used as a style example."""

    id: str
    summary_id: str
    title: str
    heading: str
    kind: str
    org_level: str
    period: str
    text: str
    score: float
    source: str


class IndexExampleOut(ExampleOut):
    context: str
    topic: str
    masked: str


class ExamplesOut(BaseModel):
    query: str
    examples: list[IndexExampleOut]


class DraftOut(BaseModel):
    """The `draft --json` object plus the stored row's id and status.

    `status`: accepted / running (not finished yet), done, failed, interrupted (the service
    stopped mid-draft; `request` holds the input to send again). `fallback` is true when the
    model could not be used and the draft states the bullets plainly; `notes` say why.
    """

    id: int
    status: Literal["accepted", "running", "done", "failed", "interrupted"]
    created_at: str
    error: str = ""
    fallback: bool = False
    notes: list[str] = Field(default_factory=list)
    ignored_facts: list[str] = Field(default_factory=list, description="看起来是对模型下指令、未作为要点使用的行")
    request: dict[str, Any]
    title: str
    text: str = ""
    raw_text: str = ""
    sections: list[SectionOut] = Field(default_factory=list)
    check: CheckOut | None = None
    examples: list[ExampleOut] = Field(default_factory=list)
    timings: dict[str, Any] = Field(default_factory=dict)
    model: str = ""
    strategy: str = ""
    opening: str = ""
    closing: str = ""


class DraftList(BaseModel):
    drafts: list[DraftOut]


class QueueOut(BaseModel):
    slots: int
    active: int
    waiting: int
    queue_size: int


class HealthOut(BaseModel):
    status: Literal["ok"]
    queue: QueueOut | None = None  # shown without a key only when none is configured


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str


class ErrorOut(BaseModel):
    detail: str = Field(description="中文说明")
    errors: list[ErrorItem] = Field(default_factory=list)
    request_id: str = ""


_RESULT_KEYS = ("raw_text", "sections", "examples", "timings", "model", "strategy", "opening", "closing")


def draft_out(row: Draft) -> dict[str, Any]:
    """A stored row as the API's draft object (`DraftOut`)."""
    result = row.result
    out: dict[str, Any] = {
        "id": row.id, "status": row.status, "created_at": row.created_at, "error": row.error,
        "fallback": bool(result.get("fallback", False)), "notes": list(result.get("notes", [])),
        "ignored_facts": list(result.get("ignored_facts", [])), "request": row.request, "title": row.title,
        "text": "", "raw_text": "", "sections": [], "check": None, "examples": [], "timings": {}, "model": "",
        "strategy": "", "opening": "", "closing": "",
    }
    if row.status == DONE:
        out.update(text=row.text, check=row.check, **{k: result[k] for k in _RESULT_KEYS if k in result})
    return out
