"""Check an eval case file: `python -m evals.validate_cases [FILE.jsonl …]`.

Per case it reports (in Chinese, for whoever maintains the cases):
* shape errors: missing keys, duplicate ids, bad period/year, fewer than 6 or more than 15
  bullets, bullets the request parser refuses, placeholders (20xx, xx, **) in the bullets;
* every Arabic number of the reference that neither a bullet nor a request field (org, period,
  year) carries (`simple_figure_check` run with the reference as the draft: list enumerators
  and placeholder digits are not numbers);
* the checker's view (`drafting.checker.check` with the reference as the draft): FACT figures
  of the reference, Chinese numerals included, that the bullets do not support, and figures of
  the bullets that the reference does not state;
* bullets copied from the reference (a common run of 20 or more characters), as a warning.
Exit status 1 when any case has an error, an uncovered number or a checker finding, else 0.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from drafting.checker import PLACEHOLDER
from drafting.flow.check import check
from drafting.flow.request import PERIODS, RequestError, request_from_json
from evals.metrics import placeholder_found, simple_figure_check

DEFAULT_CASES = Path(__file__).parent / "cases" / "heldout.jsonl"
REQUIRED_KEYS = ("id", "org", "period", "facts", "reference")
MIN_FACTS, MAX_FACTS = 6, 15
COPIED_RUN = 20


def load_cases(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def longest_common_run(a: str, b: str) -> str:
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return a[match.a: match.a + match.size]


@dataclass
class CaseProblems:
    errors: list[str] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)  # Arabic numbers of the reference
    checker: list[str] = field(default_factory=list)  # the checker's findings, reference vs bullets
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.uncovered or self.checker)


def case_problems(case: dict[str, Any]) -> CaseProblems:
    problems = CaseProblems(errors=[f"缺少字段 {key}" for key in REQUIRED_KEYS if not case.get(key)])
    if problems.errors:
        return problems
    facts: list[str] = case["facts"]
    if case["period"] not in PERIODS:
        problems.errors.append(f"期间“{case['period']}”不在 {PERIODS} 中")
    if not MIN_FACTS <= len(facts) <= MAX_FACTS:
        problems.errors.append(f"要点 {len(facts)} 条，应为 {MIN_FACTS}–{MAX_FACTS} 条")
    try:
        request = request_from_json(case)
    except RequestError as exc:
        problems.errors.append(f"要点无法解析：{exc}")
        return problems
    for fact in facts:
        if placeholders := placeholder_found(fact):
            problems.errors.append(f"要点含占位符 {'、'.join(placeholders)}：{fact}")
        if len(run := longest_common_run(fact, case["reference"])) >= COPIED_RUN:
            problems.warnings.append(f"要点照抄原文 {len(run)} 字：“{run}”")
    problems.uncovered = simple_figure_check(case["reference"], request.facts, request.field_texts())["unsupported"]
    report = check(case["reference"], request.facts, fields=request.field_texts())
    problems.checker = [
        f"参考文本的“{u.text}”要点中没有依据：{u.reason}" for u in report.unsupported if u.cls != PLACEHOLDER
    ] + [f"要点的“{item.text}”参考文本中没有：{item.fact}" for item in report.missing]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="检查评测用例文件")
    parser.add_argument("files", nargs="*", type=Path, default=[DEFAULT_CASES])
    args = parser.parse_args(argv)
    failed = False
    for path in args.files:
        cases = load_cases(path)
        print(f"{path}：{len(cases)} 个用例")
        seen: set[str] = set()
        for case in cases:
            problems = case_problems(case)
            if case.get("id") in seen:
                problems.errors.append("id 重复")
            seen.add(str(case.get("id")))
            status = "不通过" if problems.failed else "通过"
            print(f"  {case.get('id')}：{len(case.get('facts') or [])} 条要点，{status}")
            for error in problems.errors:
                print(f"    错误：{error}")
            if problems.uncovered:
                print(f"    参考文本中要点未给出的数字：{'、'.join(problems.uncovered)}")
            for finding in problems.checker:
                print(f"    核对器：{finding}")
            for warning in problems.warnings:
                print(f"    提示：{warning}")
            failed |= problems.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
