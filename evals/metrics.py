"""Metrics of one drafting run: per case (`case_metrics`) and over a run (`aggregate`).

Everything here is a pure function of texts, case inputs and check-report dicts; the checker's
`extract` and `check` are passed in, so the metrics also run without `drafting.checker`.

Conventions
-----------
* **Content characters** (ROUGE-L, length ratio): the text after NFKC normalisation, without
  whitespace, control characters and punctuation (Unicode categories Z*, C*, P*). Symbols such as
  ``%`` and ``㎡`` count. Punctuation is dropped because drafts and references differ mostly in
  comma style (，/,), which says nothing about content.
* **Arabic numbers** (the checker-independent count, ``simple_figure_check``): maximal runs of
  digits with an optional decimal part (``16.8``) or comma thousands groups (``41,000``), after
  full-width digits are made ASCII. Not counted: list and heading enumerators at the start of a
  line (``1、`` ``(1)`` ``1.``) and digits inside a placeholder (``20xx``, ``2x14``, ``201*``).
  Two numbers match when their decimal values are equal (``1310.00`` = ``1310``); units are not
  compared, so this count is looser than the checker on units and stricter on 万/Chinese
  numerals (``4.1万元`` does not match ``41000元``).
* **Check reports** are ``drafting.checker.CheckReport.to_dict()``:
  ``{"ok", "figures", "unsupported", "missing", "warnings"}``, where every item of ``figures``
  and ``unsupported`` has ``"class"`` (``"FACT"``, ``"LEXICON"``, ``"PLACEHOLDER"``, …) and
  character offsets ``"start"``/``"end"`` into the draft. A FACT figure is unsupported when an
  ``unsupported`` item has its span; ``missing`` lists each (input figure text, bullet) pair
  the draft does not state, once.
"""
from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from drafting.flow.request import request_from_json
from drafting.headings import LEVEL1, LEVEL2
from evals.defects import DEFECT_KEYS, defects
from evals.placement import reference_labels

Extract = Callable[[str], Sequence[Any]]
Check = Callable[..., Any]

# --------------------------------------------------------------------------------------------
# Text normalisation

_DIGIT_FORMS = str.maketrans("０１２３４５６７８９．（）％﹪", "0123456789.()%%")


def normalize_digits(text: str) -> str:
    """Full-width digits, point, brackets and percent signs to ASCII; nothing else.

    The full-width comma stays: ``3，500`` is a list of two numbers, ``3,500`` one number.
    """
    return text.translate(_DIGIT_FORMS)


def content_chars(text: str) -> str:
    """The characters that carry content: NFKC, without whitespace, controls and punctuation."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch)[0] not in "ZCP"
    )


# --------------------------------------------------------------------------------------------
# Arabic numbers and placeholders

# A list or heading enumerator at the start of a line: 1、 1. (1)
_LINE_ENUMERATOR = re.compile(r"^[ \t]*(?:\(\d{1,2}\)|\d{1,2}[ \t]*(?:、|\.(?!\d)))", re.M)
_ARABIC_NUMBER = re.compile(
    r"(?<![\dxXｘＸ*_])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\dxXｘＸ*_]|,\d{3}(?!\d))"
)
_PLACEHOLDER = re.compile(
    r"(?<![A-Za-z\d])(?=[\dxXｘＸ]{2,4}(?![\dA-Za-z]))\d*[xXｘＸ]+\d*"  # 20xx 2x14 201x xx 14xx
    r"|[xXｘＸ]{2,}"                                                # xxxx区, XX年
    r"|(?<![A-Za-z])[xXｘＸ](?=[年月日号名人家个元次项份户场期届万亿%])"  # x年x月x日, x名
    r"|\d+\*(?!\*)"                                             # 201*
    r"|\*{2,}|＊{2,}|_{2,}|＿{2,}"                              # **区, __年
    r"|[~～](?=年)"                                             # ~年
    r"|(?<![A-Za-z])ZZ(?![A-Za-z])"
    r"|某某"
    r"|〔[^〕\d]{1,8}〕"                                        # 〔数字〕-style index tags
)


@dataclass(frozen=True)
class Number:
    """An Arabic number found by `extract_numbers` (offsets into the digit-normalised text)."""

    text: str
    value: Decimal
    start: int
    end: int


def extract_numbers(text: str) -> list[Number]:
    """Arabic numbers of `text`, without line-start enumerators and placeholder digits."""
    text = _LINE_ENUMERATOR.sub(lambda m: " " * len(m.group()), normalize_digits(text))
    return [
        Number(m.group(), Decimal(m.group().replace(",", "")), m.start(), m.end())
        for m in _ARABIC_NUMBER.finditer(text)
    ]


def placeholder_found(text: str) -> list[str]:
    """Placeholder tokens (20xx, xx名, **区, __年, 201*, 〔数字〕 …) in order of appearance."""
    return [m.group() for m in _PLACEHOLDER.finditer(normalize_digits(text))]


# --------------------------------------------------------------------------------------------
# Figures from an extractor: either `Number` or drafting.checker.Figure objects, or dicts


def _attr(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _is_fact(figure: Any) -> bool:
    """FACT figures only; an extractor without classes (e.g. `extract_numbers`) yields facts.

    The class is `Figure.cls` on objects and ``"class"`` in report dicts.
    """
    cls = figure.get("class") if isinstance(figure, Mapping) else getattr(figure, "cls", None)
    return cls is None or str(getattr(cls, "value", cls)).upper() == "FACT"


def _figure_key(figure: Any) -> Any:
    """What makes two figures the same: the figure's own `key`, else (value, unit), else text."""
    key = _attr(figure, "key")
    if key is not None:
        return key
    value = _attr(figure, "value")
    if value is not None:
        return (value, _attr(figure, "unit"))
    return _attr(figure, "text")


def _fact_figures(text: str, extract: Extract) -> list[Any]:
    return [figure for figure in extract(text) if _is_fact(figure)]


def input_figure_count(facts: Iterable[str], extract: Extract) -> int:
    """FACT figures of the bullets, as the checker's `missing` counts them: distinct
    (figure text, bullet, place in the bullet), each bullet extracted on its own."""
    return len({(_attr(f, "text"), fact, _attr(f, "start")) for fact in facts for f in _fact_figures(fact, extract)})


# --------------------------------------------------------------------------------------------
# Text metrics


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence (bit-parallel, Hyyrö 2004): O(len(a)·len(b)/w)."""
    if not a or not b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    positions: dict[str, int] = {}
    for i, ch in enumerate(b):
        positions[ch] = positions.get(ch, 0) | (1 << i)
    full = (1 << len(b)) - 1
    row = full
    for ch in a:
        matches = row & positions.get(ch, 0)
        row = ((row + matches) | (row - matches)) & full
    return len(b) - row.bit_count()


def rougeL_char_f1(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over content characters (see the module docstring); 0.0 if either is empty."""
    cand, ref = content_chars(candidate), content_chars(reference)
    lcs = lcs_length(cand, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def length_ratio(candidate: str, reference: str) -> float | None:
    """Content characters of the candidate / of the reference; None for an empty reference."""
    ref = len(content_chars(reference))
    return len(content_chars(candidate)) / ref if ref else None


# --------------------------------------------------------------------------------------------
# Structure

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_LEVEL2 = re.compile(rf"{LEVEL2.pattern}|^\d{{1,2}}、")  # （一）… or 1、…
_SENTENCE_END = ("。", "！", "!", "”", "」")
_TITLE_MAX_CHARS = 40
_LATIN_SENTENCE = re.compile(r"[A-Za-z]+(?:[ \t,.;:'\"!?()-]+[A-Za-z]+){2,}")
_MARKDOWN_LINE = re.compile(r"^\s*(?:#|>)|\*\*|```|\|")
_LIST_LINE = re.compile(r"^\s*(?:[-*•·●▪◦]|\d{1,2}[.．](?!\d))")
_LETTER_ENDINGS = ("此致", "敬礼")


def chinese_numeral(text: str) -> int | None:
    """一 … 九十九 as an int; None for anything else."""
    if text in _CN_DIGITS:
        return _CN_DIGITS[text]
    tens, sep, units = text.partition("十")
    if not sep or (tens and tens not in _CN_DIGITS) or (units and units not in _CN_DIGITS):
        return None
    return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(units, 0)


def _snippet(line: str, width: int = 16) -> str:
    return line if len(line) <= width else line[:width] + "…"


def structure_ok(text: str) -> tuple[bool, list[str]]:
    """Whether a draft has the conventional shape; the reasons (Chinese) when it has not.

    Required: a title line (first line, at most 40 characters, no sentence-final punctuation);
    an opening paragraph between the title and the first level-1 heading; at least two level-1
    headings 一、二、… numbered without gaps; a closing paragraph (the last line is a sentence,
    not a heading, and the last section holds at least two paragraphs, i.e. its body plus the
    closing). Forbidden: Latin-letter sentences (three or more Latin words in a row), Markdown
    (# > | ** ```), list artefacts (lines starting with - * • or 1.), letter endings (此致, 敬礼)
    and placeholders.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return False, ["正文为空"]
    reasons: list[str] = []
    title = lines[0]
    if len(title) > _TITLE_MAX_CHARS or title.endswith(("。", "，", "；", "：", ",", ";", ":")) or LEVEL1.match(title):
        reasons.append(f"缺少标题行：第一行是“{_snippet(title)}”")
    headings = [(i, m.group(1)) for i, line in enumerate(lines) if (m := LEVEL1.match(line))]
    numbers = [chinese_numeral(numeral) for _, numeral in headings]
    if len(headings) < 2:
        reasons.append("缺少编号的一级标题（一、二、…）")
    elif numbers != list(range(1, len(numbers) + 1)):
        reasons.append("一级标题编号不连续：" + "、".join(numeral for _, numeral in headings))
    if headings:
        first, last = headings[0][0], headings[-1][0]
        if not any(not _LEVEL2.match(line) for line in lines[1:first]):
            reasons.append("缺少开头段落")
        tail = [line for line in lines[last + 1:] if not _LEVEL2.match(line)]
        if len(tail) < 2 or _LEVEL2.match(lines[-1]) or not lines[-1].endswith(_SENTENCE_END):
            reasons.append("缺少结尾段落")
    for line in lines:
        if m := _LATIN_SENTENCE.search(line):
            reasons.append(f"含有英文句子：“{_snippet(m.group())}”")
        if _MARKDOWN_LINE.search(line):
            reasons.append(f"含有 Markdown 标记：“{_snippet(line)}”")
        if _LIST_LINE.match(line):
            reasons.append(f"含有列表符号：“{_snippet(line)}”")
    if endings := [word for word in _LETTER_ENDINGS if word in text]:
        reasons.append("含有书信结尾：" + "、".join(endings))
    if placeholders := placeholder_found(text):
        reasons.append("含有占位符：" + "、".join(dict.fromkeys(placeholders)))
    return not reasons, reasons


# --------------------------------------------------------------------------------------------
# Figures


def simple_figure_check(draft: str, facts: Iterable[str], fields: Iterable[str] = ()) -> dict[str, Any]:
    """Checker-independent count: every Arabic number of the draft must occur in the input.

    Returns ``{"numbers": n, "unsupported": [number text, …]}`` (in draft order, repeats kept).
    """
    allowed = {number.value for number in extract_numbers("\n".join([*facts, *fields]))}
    numbers = extract_numbers(draft)
    return {"numbers": len(numbers), "unsupported": [n.text for n in numbers if n.value not in allowed]}


def example_leakage(
    draft: str,
    facts: Iterable[str],
    example_texts: Iterable[str],
    extract: Extract | None = None,
    fields: Iterable[str] = (),
) -> list[str]:
    """FACT figures of the draft found in the retrieved examples but not in the input.

    `extract` is `drafting.checker.extract` or, by default, `extract_numbers`. Figures are
    compared by `_figure_key`. Returns the draft's figure texts, first occurrence of each key.
    """
    extract = extract or extract_numbers
    input_keys = {_figure_key(f) for f in _fact_figures("\n".join([*facts, *fields]), extract)}
    example_keys = {_figure_key(f) for text in example_texts for f in _fact_figures(text, extract)}
    leaked: dict[Any, str] = {}
    for figure in _fact_figures(draft, extract):
        key = _figure_key(figure)
        if key in example_keys and key not in input_keys:
            leaked.setdefault(key, _attr(figure, "text"))
    return list(leaked.values())


def fact_figure_counts(report: Mapping[str, Any]) -> tuple[int, int]:
    """(supported FACT figures, all FACT figures) of a check-report dict."""
    facts = [item for item in report.get("figures", []) if _is_fact(item)]
    unsupported = {(u.get("start"), u.get("end")) for u in report.get("unsupported", []) if _is_fact(u)}
    return sum(1 for f in facts if (f.get("start"), f.get("end")) not in unsupported), len(facts)


def claim_counts(report: Mapping[str, Any]) -> dict[str, int]:
    """Misattributed figures, ungrounded claims (all kinds), meta/prompt text, and the work
    clauses held to the input with those of them that were ungrounded, of a check-report dict."""
    claims = report.get("claims", [])
    return {
        "misattributed": sum(1 for u in report.get("unsupported", []) if u.get("misattributed")),
        "claims": sum(1 for c in claims if c.get("kind") != "meta"),  # meta text is counted as leaked
        "meta": sum(1 for c in claims if c.get("kind") == "meta"),
        "work_clauses": int(report.get("work_clauses") or 0),
        "ungrounded_work": sum(1 for c in claims if c.get("kind", "work") == "work"),
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def figure_precision(report: Mapping[str, Any]) -> float | None:
    """Supported FACT figures / all FACT figures in the draft; None when there are none."""
    return _ratio(*fact_figure_counts(report))


def figure_recall(report: Mapping[str, Any], n_input_figures: int) -> float | None:
    """Share of input figures that the draft states: 1 - missing / input; None without input."""
    if not n_input_figures:
        return None
    return max(0.0, 1 - len(report.get("missing", [])) / n_input_figures)


# --------------------------------------------------------------------------------------------
# Per case and per run


def _report_dict(report: Any) -> dict[str, Any]:
    return dict(report) if isinstance(report, Mapping) else report.to_dict()


def _example_texts(examples: Iterable[Any]) -> list[str]:
    """Texts of the retrieved examples: strings, or dicts with a "text" key."""
    return [item if isinstance(item, str) else item.get("text") or "" for item in examples]


def case_metrics(
    case: Mapping[str, Any],
    result: Mapping[str, Any],
    extract: Extract | None = None,
    check: Check | None = None,
) -> dict[str, Any]:
    """All metrics of one case.

    `case` has the eval-case shape (id, org, period, year?, facts, reference); `result` is a
    `DraftResult.to_dict()` plus the runner's ``"seconds"``. The final check report is
    ``result["check"]`` when present, else ``check(text, facts, fields=…)``; the raw (before
    repair) report is ``check(raw_text, …)``, or the final one when the texts are equal. Without
    `check`, a missing report leaves the figure precision/recall at None. Tokens/s is the sum
    of ``completion_tokens`` over ``result["sections"]`` divided by the sum of their
    ``seconds`` (the generation time); a result without per-section tokens has none.
    """
    request = request_from_json(dict(case))
    facts, fields = request.facts, request.field_texts()
    extract = extract or extract_numbers
    text = result.get("text") or ""
    raw_text = result.get("raw_text") or text
    reference = case.get("reference") or ""

    def run_check(draft: str) -> dict[str, Any] | None:
        return _report_dict(check(draft, facts, fields=fields)) if check else None

    final = _report_dict(result["check"]) if result.get("check") else run_check(text)
    raw = final if raw_text == text else run_check(raw_text)
    supported, fact_figures = fact_figure_counts(final) if final else (0, 0)
    raw_supported, raw_fact_figures = fact_figure_counts(raw) if raw else (0, 0)
    claims = claim_counts(final) if final else claim_counts({})
    raw_claims = claim_counts(raw) if raw else claim_counts({})
    attached = [p for section in result.get("sections") or [] for p in section.get("phrases") or []]
    found = defects(text, facts, final or {}, reference_labels(dict(case), facts) if reference else [], fields, attached)
    input_figures = input_figure_count(facts, extract)
    simple = simple_figure_check(text, facts, fields)
    leaked = example_leakage(text, facts, _example_texts(result.get("examples") or []), extract, fields)
    ok, reasons = structure_ok(text)
    input_placeholders = set(placeholder_found("\n".join([*facts, *fields])))
    sections = result.get("sections") or []
    tokens = sum(section.get("completion_tokens") or 0 for section in sections)
    generation_seconds = sum(section.get("seconds") or 0 for section in sections)
    return {
        "id": case.get("id"),
        "seconds": result.get("seconds"),
        "fact_figures": fact_figures,
        "supported_fact_figures": supported,
        "figure_precision": _ratio(supported, fact_figures),
        "raw_fact_figures": raw_fact_figures,
        "raw_supported_fact_figures": raw_supported,
        "raw_figure_precision": _ratio(raw_supported, raw_fact_figures),
        "input_figures": input_figures,
        "missing_figures": len(final.get("missing", [])) if final else None,
        "figure_recall": figure_recall(final, input_figures) if final else None,
        "unsupported": [item.get("text") for item in final.get("unsupported", [])] if final else [],
        "misattributed_figures": claims["misattributed"],
        "raw_misattributed_figures": raw_claims["misattributed"],
        "ungrounded_claims": claims["claims"],
        "raw_ungrounded_claims": raw_claims["claims"],
        "claims": [item.get("text") for item in final.get("claims", [])] if final else [],
        "meta_text": claims["meta"],
        "raw_meta_text": raw_claims["meta"],
        "work_clauses": claims["work_clauses"],
        "ungrounded_work_clauses": claims["ungrounded_work"],
        "raw_work_clauses": raw_claims["work_clauses"],
        "raw_ungrounded_work_clauses": raw_claims["ungrounded_work"],
        "simple_numbers": simple["numbers"],
        "simple_unsupported": simple["unsupported"],
        "simple_figure_precision": _ratio(simple["numbers"] - len(simple["unsupported"]), simple["numbers"]),
        "example_leakage": leaked,
        "placeholders": [p for p in placeholder_found(text) if p not in input_placeholders],
        "structure_ok": ok,
        "structure_reasons": reasons,
        **{key: found[key] for key in (*DEFECT_KEYS, "defects", "defect_examples", "placement_agreeing",
                                       "placement_compared")},
        "rougeL_char_f1": rougeL_char_f1(text, reference),
        "length_ratio": length_ratio(text, reference),
        "generated_tokens": tokens,
        "generation_seconds": generation_seconds,
        "tokens_per_second": _ratio(tokens, generation_seconds) if tokens else None,
    }


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between order statistics (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def _grounded_share(clauses: float, ungrounded: float) -> float | None:
    """Grounded work clauses / all work clauses; 1.0 for drafts that state no work at all."""
    return (clauses - ungrounded) / clauses if clauses else None


def aggregate(metrics: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Run-level figures for summary.json.

    Figure precision/recall and the simple precision are pooled over all drafts (sums of
    counts, not means of ratios), so a draft with many figures weighs more. `example_leakage`
    is the number of leaked figures over all drafts, `misattributed_figures` and
    `ungrounded_claims` are counts over all drafts (final, and raw = before repair),
    `claim_precision` is grounded work clauses / all work clauses, `placeholder_drafts` the number of drafts
    with a placeholder, `structure_ok` the share of well-formed drafts, ROUGE-L and length ratio
    are means, tokens/s is total generated tokens / total generation seconds over the drafts
    that report tokens.
    """
    def total(key: str) -> float:
        return sum(m.get(key) or 0 for m in metrics)

    seconds = [m["seconds"] for m in metrics if m.get("seconds") is not None]
    timed = [m for m in metrics if m.get("generated_tokens")]
    checked = [m for m in metrics if m.get("missing_figures") is not None]
    input_figures = sum(m["input_figures"] for m in checked)
    simple_numbers = total("simple_numbers")
    return {
        "cases": len(metrics),
        "figure_precision": _ratio(total("supported_fact_figures"), total("fact_figures")),
        "raw_figure_precision": _ratio(total("raw_supported_fact_figures"), total("raw_fact_figures")),
        "figure_recall": (
            max(0.0, 1 - sum(m["missing_figures"] for m in checked) / input_figures) if input_figures else None
        ),
        "simple_figure_precision": _ratio(
            simple_numbers - sum(len(m.get("simple_unsupported") or []) for m in metrics), simple_numbers
        ),
        "misattributed_figures": total("misattributed_figures"),
        "raw_misattributed_figures": total("raw_misattributed_figures"),
        "ungrounded_claims": total("ungrounded_claims"),
        "raw_ungrounded_claims": total("raw_ungrounded_claims"),
        "claim_precision": _grounded_share(total("work_clauses"), total("ungrounded_work_clauses")),
        "raw_claim_precision": _grounded_share(total("raw_work_clauses"), total("raw_ungrounded_work_clauses")),
        **{key: total(key) for key in DEFECT_KEYS},
        "defects_per_draft": _ratio(total("defects"), len(metrics)),
        "placement_agreement": _ratio(total("placement_agreeing"), total("placement_compared")),
        "example_leakage": sum(len(m.get("example_leakage") or []) for m in metrics),
        "placeholder_drafts": sum(1 for m in metrics if m.get("placeholders")),
        "structure_ok": _ratio(sum(1 for m in metrics if m.get("structure_ok")), len(metrics)),
        "rougeL_char_f1": _mean(m.get("rougeL_char_f1") for m in metrics),
        "length_ratio": _mean(m.get("length_ratio") for m in metrics),
        "seconds_median": quantile(seconds, 0.5),
        "seconds_p90": quantile(seconds, 0.9),
        "tokens_per_second": _ratio(sum(m["generated_tokens"] for m in timed),
                                    sum(m.get("generation_seconds") or 0 for m in timed)),
    }
