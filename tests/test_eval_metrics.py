"""Evaluation metrics on hand-made drafts with known answers, and the report on a tiny run."""
from __future__ import annotations

import enum
import json
import random
from pathlib import Path
from typing import Any

import pytest

from evals import metrics as m
from evals.report import PLOT_COMPARISON, PLOT_FIGURES, PLOT_SECONDS, write_report
from evals.validate_cases import DEFAULT_CASES, case_problems, load_cases
from evals.validate_cases import main as validate_main

FACTS = ["新建工会2个，发展新会员100人", "春节走访慰问困难职工456户，发放慰问金16.8万元"]
FIELDS = ["东湖街道总工会", "上半年", "2024年"]
CASE = {"id": "t-1", "org": "东湖街道总工会", "period": "上半年", "year": 2024, "facts": FACTS,
        "reference": "2024年上半年，东湖街道总工会新建工会2个，发展新会员100人，走访慰问困难职工456户。"}

PERFECT = """东湖街道总工会2024年上半年工作总结
2024年上半年，东湖街道总工会在街道党工委和区总工会的正确领导下，围绕中心、服务大局，现将上半年工作总结如下：
一、夯实基层组织，扩大工会覆盖
上半年新建工会2个，发展新会员100人，基层组织不断壮大。
二、做好帮扶工作，传递组织温暖
春节期间走访慰问困难职工456户，发放慰问金16.8万元，受到职工欢迎。
下半年，我们将继续努力，推动工会工作再上新台阶。"""


def replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


# ------------------------------------------------------------------------------------------
# Numbers and placeholders


@pytest.mark.parametrize("text, expected", [
    ("新建工会2个，发展新会员100人", ["2", "100"]),
    ("1、加强队伍建设\n(2)监督处理15件\n3. 发放400份", ["15", "400"]),   # enumerators skipped
    ("增长7.9%，救济款物16.8万元，捐款1310.00", ["7.9", "16.8", "1310.00"]),
    ("慰问金41,000元", ["41,000"]),
    ("监督处理１５件", ["15"]),                                      # full-width digits
    ("分别为3，500人", ["3", "500"]),                                # full-width comma is a list
    ("2x14年、20xx年度、**000元、201*年", []),                        # placeholder digits
])
def test_extract_numbers(text: str, expected: list[str]) -> None:
    assert [n.text for n in m.extract_numbers(text)] == expected


def test_extract_numbers_values() -> None:
    assert [n.value for n in m.extract_numbers("41,000元与1310.00元")] == [41000, 1310]


@pytest.mark.parametrize("text, expected", [
    ("20xx年上半年", ["20xx"]),
    ("xx街道总工会", ["xx"]),
    ("新建工会x个，会员xx名，x年x月x日", ["x", "xx", "x", "x", "x"]),
    ("**区总工会", ["**"]),
    ("__年工作", ["__"]),
    ("2x14年度", ["2x14"]),
    ("201*年", ["201*"]),
    ("~年", ["~"]),
    ("ＸＸ街道", ["ＸＸ"]),
    ("某某公司", ["某某"]),
    ("慰问〔数字〕户", ["〔数字〕"]),
])
def test_placeholder_found(text: str, expected: list[str]) -> None:
    assert m.placeholder_found(text) == expected


@pytest.mark.parametrize("text", [PERFECT, "PVC车间、QQ群、Excel培训、京基100、某公司", "“6.26”国际禁毒日"])
def test_no_placeholder_in_clean_text(text: str) -> None:
    assert m.placeholder_found(text) == []


# ------------------------------------------------------------------------------------------
# Text metrics


def lcs_dp(a: str, b: str) -> int:
    row = [0] * (len(b) + 1)
    for ch in a:
        previous = 0
        for j, other in enumerate(b, start=1):
            previous, row[j] = row[j], previous + 1 if ch == other else max(row[j], row[j - 1])
    return row[-1]


def test_lcs_matches_dynamic_programming() -> None:
    rng = random.Random(5)
    for _ in range(200):
        a = "".join(rng.choice("工会职工会员") for _ in range(rng.randint(0, 40)))
        b = "".join(rng.choice("工会职工会员") for _ in range(rng.randint(0, 90)))
        assert m.lcs_length(a, b) == lcs_dp(a, b)


def test_rouge_known_values() -> None:
    assert m.rougeL_char_f1(PERFECT, PERFECT) == 1.0
    assert m.rougeL_char_f1("甲乙丙丁", "甲乙戊丁") == pytest.approx(0.75)
    assert m.rougeL_char_f1("甲乙", "丙丁") == 0.0
    assert m.rougeL_char_f1("", "丙丁") == 0.0
    # whitespace and punctuation do not count
    assert m.rougeL_char_f1("新建工会2个，会员100人。", "新建工会2个 会员100人") == 1.0


def test_length_ratio() -> None:
    assert m.length_ratio("甲乙", "甲乙丙丁") == 0.5
    assert m.length_ratio("甲，乙。", "甲乙") == 1.0
    assert m.length_ratio("甲乙", "") is None


# ------------------------------------------------------------------------------------------
# Structure


def test_structure_of_a_perfect_draft() -> None:
    assert m.structure_ok(PERFECT) == (True, [])


@pytest.mark.parametrize("draft, reason", [
    ("", "正文为空"),
    (replace(PERFECT, "一、夯实", "## 一、夯实"), "Markdown"),
    (replace(PERFECT, "发展新会员100人", "发展新会员**100人**"), "Markdown"),
    (replace(PERFECT, "下半年，", "> 下半年，"), "Markdown"),
    (replace(PERFECT, "上半年新建", "- 上半年新建"), "列表符号"),
    (replace(PERFECT, "上半年新建", "1. 上半年新建"), "列表符号"),
    (replace(PERFECT, "上半年新建", "• 上半年新建"), "列表符号"),
    (replace(PERFECT, "2024年上半年，东湖", "20xx年上半年，东湖"), "占位符"),
    (replace(PERFECT, "再上新台阶。", "再上新台阶。\n此致\n敬礼！"), "书信结尾"),
    (PERFECT + "\nIn summary, the union worked hard this year.", "英文句子"),
    (replace(PERFECT, "二、做好", "三、做好"), "编号不连续"),
    (PERFECT.split("\n", 1)[1], "标题"),                                  # no title line
    ("\n".join(PERFECT.splitlines()[:1] + PERFECT.splitlines()[2:]), "开头段落"),
    (PERFECT.rsplit("\n", 1)[0], "结尾段落"),                              # no closing paragraph
    ("东湖街道总工会工作总结\n今年以来做了很多工作。\n一、组织建设\n新建工会2个。\n下半年继续努力。", "一级标题"),
])
def test_structure_faults(draft: str, reason: str) -> None:
    ok, reasons = m.structure_ok(draft)
    assert not ok
    assert any(reason in r for r in reasons), reasons


def test_chinese_numeral() -> None:
    assert [m.chinese_numeral(t) for t in ("一", "九", "十", "十一", "二十", "二十三", "甲")] == [1, 9, 10, 11, 20, 23, None]


# ------------------------------------------------------------------------------------------
# Figures without the checker


def test_simple_check_perfect_draft() -> None:
    assert m.simple_figure_check(PERFECT, FACTS, FIELDS) == {"numbers": 6, "unsupported": []}


def test_simple_check_invented_number() -> None:
    draft = replace(PERFECT, "新建工会2个", "新建工会3个")
    assert m.simple_figure_check(draft, FACTS, FIELDS)["unsupported"] == ["3"]


def test_simple_check_needs_fields_for_the_year() -> None:
    assert m.simple_figure_check(PERFECT, FACTS)["unsupported"] == ["2024", "2024"]


def test_simple_check_compares_whole_numbers_by_value() -> None:
    assert m.simple_figure_check("监督处理15件", ["监督处理150件"])["unsupported"] == ["15"]
    assert m.simple_figure_check("捐款1310元", ["捐款1310.00元"])["unsupported"] == []


def test_example_leakage_default_extractor() -> None:
    examples = ["仅县总工会本级就走访慰问了456户困难职工", "慰问困难职工88户，组建工会27家"]
    draft = replace(PERFECT, "发展新会员100人", "发展新会员100人，组建工会27家")
    assert m.example_leakage(draft, FACTS, examples, fields=FIELDS) == ["27"]   # 456 is in the input
    assert m.example_leakage(PERFECT, FACTS, examples, fields=FIELDS) == []
    invented = replace(PERFECT, "新建工会2个", "新建工会5个")
    assert m.example_leakage(invented, FACTS, examples, fields=FIELDS) == []    # invented, not copied


class FigureClass(enum.Enum):
    FACT = "FACT"
    LEXICON = "LEXICON"


def test_example_leakage_with_a_classifying_extractor() -> None:
    def extract(text: str) -> list[dict[str, Any]]:
        figures = [{"text": n.text, "class": "FACT", "value": n.value, "unit": None} for n in m.extract_numbers(text)]
        if "五一" in text:
            figures.append({"text": "五一", "class": FigureClass.LEXICON, "value": 5.1, "unit": None})
        return figures

    draft = PERFECT.replace("春节期间", "五一期间，组建工会27家；春节期间")
    leaked = m.example_leakage(draft, FACTS, ["五一前夕组建工会27家"], extract=extract, fields=FIELDS)
    assert leaked == ["27"]                                                   # the festival is free


# ------------------------------------------------------------------------------------------
# Figures from a check report


REPORT = {  # the CheckReport.to_dict() shape
    "ok": False,
    "figures": [
        {"text": "2个", "start": 10, "end": 12, "class": "FACT"},
        {"text": "100人", "start": 20, "end": 24, "class": "FACT"},
        {"text": "999户", "start": 30, "end": 34, "class": "FACT"},
        {"text": "五一", "start": 40, "end": 42, "class": "LEXICON"},
        {"text": "20xx", "start": 50, "end": 54, "class": "PLACEHOLDER"},
    ],
    "unsupported": [{"text": "999户", "start": 30, "end": 34, "reason": "不在要点中", "class": "FACT"},
                    {"text": "20xx", "start": 50, "end": 54, "reason": "占位符", "class": "PLACEHOLDER"}],
    "missing": [{"text": "16.8万元", "fact": FACTS[1]}],
    "warnings": [],
}


def test_figure_precision_counts_fact_figures_only() -> None:
    assert m.fact_figure_counts(REPORT) == (2, 3)
    assert m.figure_precision(REPORT) == pytest.approx(2 / 3)
    assert m.figure_precision({"figures": [{"class": "LEXICON", "start": 0, "end": 2}]}) is None


def test_figure_recall() -> None:
    assert m.figure_recall(REPORT, 4) == 0.75
    assert m.figure_recall(REPORT, 0) is None


def fake_check(draft: str, facts: list[str], fields: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
    """A stand-in checker: Arabic numbers only, supported when the input has the same value."""
    allowed = {n.value for n in m.extract_numbers("\n".join([*facts, *fields]))}
    found = {n.value for n in m.extract_numbers(draft)}
    figures = [{"text": n.text, "start": n.start, "end": n.end, "class": "FACT"} for n in m.extract_numbers(draft)]
    unsupported = [f for f in figures if m.extract_numbers(f["text"])[0].value not in allowed]
    return {
        "ok": not unsupported,
        "figures": figures,
        "unsupported": unsupported,
        "missing": [{"text": n.text, "fact": fact} for fact in facts for n in m.extract_numbers(fact)
                    if n.value not in found],
        "warnings": [],
    }


def test_case_metrics_perfect_draft() -> None:
    result = {"text": PERFECT, "raw_text": PERFECT, "seconds": 12.0,
              "sections": [{"completion_tokens": 100, "seconds": 4.0}, {"completion_tokens": 60, "seconds": 4.0}],
              "examples": [{"id": "seed-004-03", "text": "走访慰问了456户困难职工"}]}
    metrics = m.case_metrics(CASE, result, check=fake_check)
    assert metrics["figure_precision"] == 1.0
    assert metrics["raw_figure_precision"] == 1.0
    assert metrics["figure_recall"] == 1.0
    assert metrics["input_figures"] == 4
    assert metrics["simple_figure_precision"] == 1.0
    assert metrics["example_leakage"] == []
    assert metrics["placeholders"] == []
    assert metrics["structure_ok"] is True
    assert metrics["tokens_per_second"] == 20.0
    assert 0 < metrics["rougeL_char_f1"] < 1
    assert metrics["length_ratio"] > 1


def test_case_metrics_repair_and_copied_figure() -> None:
    raw = replace(PERFECT, "新建工会2个", "新建工会27家")                      # 27 copied from an example
    final = replace(PERFECT, "发放慰问金16.8万元，", "")                        # repaired, one figure dropped
    result = {"text": final, "raw_text": raw, "seconds": 3.0,
              "examples": [{"text": "上半年共组建基层工会27家"}], "check": fake_check(final, FACTS, FIELDS)}
    metrics = m.case_metrics(CASE, result, check=fake_check)
    assert metrics["figure_precision"] == 1.0
    assert metrics["raw_figure_precision"] == pytest.approx(5 / 6)
    assert metrics["missing_figures"] == 1
    assert metrics["figure_recall"] == 0.75
    assert metrics["example_leakage"] == []                                   # the final text is clean
    assert m.case_metrics(CASE, {**result, "text": raw}, check=fake_check)["example_leakage"] == ["27"]
    assert metrics["tokens_per_second"] is None


def test_case_metrics_uses_the_results_own_report() -> None:
    metrics = m.case_metrics(CASE, {"text": PERFECT, "check": REPORT})
    assert metrics["figure_precision"] == pytest.approx(2 / 3)
    assert metrics["unsupported"] == ["999户", "20xx"]
    assert metrics["raw_figure_precision"] == pytest.approx(2 / 3)            # same text, same report


def test_case_metrics_without_a_checker() -> None:
    draft = replace(PERFECT, "2024年上半年，东湖", "20xx年上半年，东湖")
    metrics = m.case_metrics(CASE, {"text": draft})
    assert metrics["figure_precision"] is None and metrics["figure_recall"] is None
    assert metrics["placeholders"] == ["20xx"]
    assert metrics["structure_ok"] is False


def test_case_metrics_with_the_real_checker() -> None:
    from drafting.checker import extract
    from drafting.flow.check import check

    perfect = m.case_metrics(CASE, {"text": PERFECT}, extract=extract, check=check)
    assert (perfect["figure_precision"], perfect["figure_recall"], perfect["input_figures"]) == (1.0, 1.0, 4)
    invented = replace(PERFECT, "新建工会2个", "新建工会3个")
    metrics = m.case_metrics(CASE, {"text": invented}, extract=extract, check=check)
    assert metrics["fact_figures"] == 6                                         # 2024年 twice, 3个, 100人, 456户, 16.8万元
    assert metrics["figure_precision"] == pytest.approx(5 / 6)
    assert metrics["figure_recall"] == 0.75                                     # 2个 is missing
    assert metrics["unsupported"] == ["3个"]
    copied = replace(PERFECT, "春节期间", "五一期间组建工会27家，春节期间")
    examples = [{"text": "五一前夕，上半年共组建基层工会27家"}]
    assert m.case_metrics(CASE, {"text": copied, "examples": examples}, extract=extract, check=check)[
        "example_leakage"] == ["27家"]                                          # 五一 is a festival, free


def test_quantile() -> None:
    assert m.quantile(list(range(1, 11)), 0.9) == pytest.approx(9.1)
    assert m.quantile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert m.quantile([4.0], 0.9) == 4.0
    assert m.quantile([], 0.5) is None


SUMMARY_KEYS = {"cases", "figure_precision", "raw_figure_precision", "figure_recall", "simple_figure_precision",
                "example_leakage", "placeholder_drafts", "structure_ok", "rougeL_char_f1", "length_ratio",
                "seconds_median", "seconds_p90", "tokens_per_second", "misattributed_figures",
                "raw_misattributed_figures", "ungrounded_claims", "raw_ungrounded_claims", "claim_precision",
                "raw_claim_precision", "defects_per_draft", "leaked_text", "misplaced_bullets",
                "duplicated_statements", "cut_off_sentences", "filler_sentences", "lost_bullets", "vague_quantities",
                "invented_effects", "lost_clauses",
                "placement_agreement"}


def test_aggregate_pools_counts() -> None:
    perfect = {"text": PERFECT, "seconds": 10.0, "sections": [{"completion_tokens": 100, "seconds": 5.0}]}
    invented = replace(PERFECT, "新建工会2个", "新建工会3个")
    leaky = {"text": invented + "\n20xx", "seconds": 30.0, "sections": [{"completion_tokens": 50, "seconds": 5.0}],
             "examples": ["新建工会3个"]}
    per_case = [m.case_metrics(CASE, result, check=fake_check) for result in (perfect, leaky)]
    summary = m.aggregate(per_case)
    assert set(summary) == SUMMARY_KEYS
    assert summary["cases"] == 2
    assert summary["figure_precision"] == pytest.approx(11 / 12)               # pooled, not the mean 0.917
    assert summary["simple_figure_precision"] == pytest.approx(11 / 12)
    assert summary["figure_recall"] == pytest.approx(7 / 8)
    assert summary["example_leakage"] == 1
    assert summary["placeholder_drafts"] == 1
    assert summary["structure_ok"] == 0.5
    assert summary["seconds_median"] == 20.0
    assert summary["seconds_p90"] == pytest.approx(28.0)
    assert summary["tokens_per_second"] == 15.0


def test_aggregate_of_nothing() -> None:
    summary = m.aggregate([])
    assert summary["cases"] == 0 and summary["figure_precision"] is None and summary["seconds_median"] is None


# ------------------------------------------------------------------------------------------
# Held-out cases


def test_heldout_cases_are_valid() -> None:
    cases = load_cases(DEFAULT_CASES)
    assert len(cases) == 16
    assert validate_main([str(DEFAULT_CASES)]) == 0


def test_validator_reports_uncovered_numbers() -> None:
    case = {**CASE, "facts": FACTS * 3, "reference": CASE["reference"] + "组建工会27家。"}
    problems = case_problems(case)
    assert problems.errors == [] and problems.uncovered == ["27"]              # 2024 is the year field
    assert any("27家" in finding for finding in problems.checker)              # the checker agrees
    assert problems.failed
    problems = case_problems({**case, "facts": ["20xx年新建工会2个"] * 6})
    assert any("占位符" in e for e in problems.errors)


def test_validator_reports_chinese_numerals_through_the_checker() -> None:
    case = {**CASE, "facts": FACTS * 3, "reference": CASE["reference"] + "帮扶三家企业。"}
    problems = case_problems(case)
    assert problems.uncovered == [] and any("三家" in finding for finding in problems.checker)


# ------------------------------------------------------------------------------------------
# Report


def write_run(directory: Path, rows: list[tuple[str, dict[str, Any]]]) -> None:
    directory.mkdir(parents=True)
    per_case = [m.case_metrics(CASE, result, check=fake_check) for _, result in rows]
    summary = {**m.aggregate(per_case), "model": "fake-model"}
    (directory / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    with (directory / "cases.jsonl").open("w", encoding="utf-8") as handle:
        for (case_id, result), metrics in zip(rows, per_case):
            row = {"id": case_id, "text": result["text"], "raw_text": result["text"], "check": {},
                   "seconds": result["seconds"], "metrics": metrics}
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def test_report_side_by_side(tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_run(run, [("c-1", {"text": PERFECT, "seconds": 10.0}),
                    ("c-2", {"text": replace(PERFECT, "456户", "999户"), "seconds": 20.0})])
    write_run(run / "baseline", [("c-1", {"text": replace(PERFECT, "一、夯实", "## 一、夯实"), "seconds": 5.0}),
                                 ("c-2", {"text": replace(PERFECT, "新建工会2个", "新建工会7个"), "seconds": 6.0})])
    path = write_report(run)
    report = path.read_text(encoding="utf-8")
    for name in (PLOT_FIGURES, PLOT_SECONDS, PLOT_COMPARISON):
        assert (run / name).stat().st_size > 1000
        assert f"({name})" in report
    assert "朴素基线" in report and "fake-model" in report
    summary_rows = [line for line in report.splitlines() if line.startswith("| 数字精确率")]
    assert summary_rows == ["| 数字精确率 figure precision（修复后） | 91.7% | 91.7% | +0.0 pp | 持平 |"]
    structure_row = next(line for line in report.splitlines() if line.startswith("| 结构合格率"))
    assert "100.0%" in structure_row and "50.0%" in structure_row and "流水线" in structure_row
    assert "| c-2 | 83.3% |" in report
    assert "999" in report and "Markdown" in report                            # the problems are listed


def test_report_without_baseline(tmp_path: Path) -> None:
    write_run(tmp_path / "run", [("c-1", {"text": PERFECT, "seconds": 10.0})])
    report = write_report(tmp_path / "run").read_text(encoding="utf-8")
    assert "| 数字精确率 figure precision（修复后） | 100.0% |" in report
    assert "朴素基线 naive baseline |" not in report


def test_misattributed_figures_and_claims_are_counted_raw_and_final() -> None:
    from drafting.flow.check import check

    raw = "上半年新建工会2个，发展新会员456户。春节走访慰问困难职工100人，发放慰问金16.8万元。同时开展职工法律知识培训。"
    final = "上半年新建工会2个，发展新会员100人；春节走访慰问困难职工456户，发放慰问金16.8万元。"
    metrics = m.case_metrics(CASE, {"text": final, "raw_text": raw, "seconds": 1.0}, check=check)
    assert (metrics["raw_misattributed_figures"], metrics["misattributed_figures"]) == (2, 0)
    assert (metrics["raw_ungrounded_claims"], metrics["ungrounded_claims"]) == (1, 0)
    assert metrics["raw_ungrounded_work_clauses"] == 1 and metrics["raw_work_clauses"] >= 2
    summary = m.aggregate([metrics])
    assert summary["misattributed_figures"] == 0 and summary["raw_misattributed_figures"] == 2
    assert summary["claim_precision"] == 1.0 and summary["raw_claim_precision"] < 1.0
