"""Error responses of the HTTP API: one JSON shape (`ErrorOut`), Chinese messages.

Validation errors from the request models are translated into Chinese field by field; the
messages of `drafting.flow.request` are already Chinese and pass through as they are.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drafting.api.middleware import request_id_var
from drafting.api.models import ErrorOut, FastJSON

_FIELD_ZH = {
    "org": "单位名称", "period": "总结期间", "year": "年份", "facts": "要点", "sections": "分节",
    "title": "小标题", "options": "选项", "strategy": "写法（strategy）", "target_chars": "目标字数",
    "examples": "范文段数", "draft": "草稿", "q": "检索内容", "k": "返回条数", "kind": "段落类别",
    "draft_id": "草稿编号", "request_id": "请求编号", "limit": "条数",
}
_STATUS_ZH = {
    400: "请求无法解析：请发送 UTF-8 编码的 JSON。",
    401: "缺少或错误的访问密钥。",
    404: "找不到这个地址。",
    405: "这个地址不支持该请求方法。",
    413: "请求体过大。",
    415: "请求体应为 JSON（Content-Type: application/json）。",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (400, "请求体无法解析（如不是 UTF-8 编码）"),
        (401, "缺少或错误的访问密钥（设置了 DRAFTING_API_KEY 时）"),
        (404, "没有这份草稿"),
        (413, "请求体过大"),
        (422, "请求不合规范：缺字段、类型不对、要点过多或过长等（中文说明）"),
        (429, "排队已满，见 Retry-After"),
        (503, "模型排队超时或检索索引不可用，见 Retry-After"),
    )
}


def error_response(status: int, detail: Any, errors: list[dict[str, Any]] | None = None,
                   headers: Mapping[str, str] | None = None) -> FastJSON:
    if not isinstance(detail, str) or not _has_chinese(detail):
        detail = _STATUS_ZH.get(status, "请求失败。")
    body = {"detail": detail, "errors": errors or [], "request_id": request_id_var.get()}
    return FastJSON(body, status_code=status, headers=dict(headers or {}))


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _field(loc: Sequence[Any]) -> str:
    """The Chinese name of the innermost known field in `loc`, with a list position if any."""
    names = [str(p) for p in loc if isinstance(p, str) and p in _FIELD_ZH]
    position = next((p for p in reversed(loc) if isinstance(p, int)), None)
    name = _FIELD_ZH[names[-1]] if names else "请求体"
    return f"{name}（第 {position + 1} 项）" if position is not None and names else name


_TYPE_ERRORS = frozenset({"int_type", "int_parsing", "int_from_float", "string_type", "string_unicode"})


def _message(error: Mapping[str, Any]) -> str:
    kind, loc, ctx = error.get("type", ""), error.get("loc", ()), error.get("ctx") or {}
    field = _field(loc)
    if "year" in loc and kind in _TYPE_ERRORS:  # a union (number or text): one message, not one per branch
        return "年份应为四位整数，如 2024。"
    if kind == "value_error":
        return f"{str(ctx.get('error', '')).rstrip('。')}。"
    if kind == "json_invalid":
        return "请求体不是合法的 JSON。"
    if kind == "missing":
        return "缺少请求体（JSON 对象）。" if field == "请求体" else f"缺少{field}。"
    if kind == "extra_forbidden":
        return f"不认识的选项：{loc[-1]}。"
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return f"{field}应为 JSON 对象。"
    if kind == "list_type":
        return f"{field}应为列表。"
    if kind in ("string_type", "string_unicode"):
        return f"{field}应为文字（字符串）。"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{field}应为整数。"
    if kind == "too_long":
        return f"{field}过多（最多 {ctx.get('max_length')} 条）。"
    if kind == "string_too_long":
        return f"{field}过长（最多 {ctx.get('max_length')} 字）。"
    if kind == "too_short":
        return f"{field}至少要有 {ctx.get('min_length')} 条。"
    if kind == "string_too_short":
        return f"{field}不能为空。"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = next((ctx[k] for k in ("ge", "le", "gt", "lt") if k in ctx), "")
        return f"{field}超出允许范围（界限 {bound}）。"
    if kind == "literal_error":
        return f"{field}的取值不对，可选：{ctx.get('expected', '')}。"
    if kind == "string_pattern_mismatch":
        return f"{field}的取值不对。"
    return f"{field}的取值不合法。"


def validation_detail(errors: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A one-line Chinese summary and the per-field list (`ErrorItem`) of a validation failure."""
    items = [{"loc": [p for p in e.get("loc", ()) if isinstance(p, (str, int))], "msg": _message(e)} for e in errors]
    unique = list(dict.fromkeys(_message(e) for e in errors))
    detail = "请求不合规范：" + "".join(unique[:5]) + ("……" if len(unique) > 5 else "")
    return detail, items
