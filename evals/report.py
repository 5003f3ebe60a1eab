"""Markdown report of an evaluation run: `python -m evals.report RUN_DIR [--baseline DIR]`.

A run directory holds `summary.json` (the `metrics.aggregate` keys, plus any run information
such as the model or the strategy) and `cases.jsonl`, one object per case:
``{"id", "text", "raw_text", "check", "seconds", "metrics": {…case_metrics…}}`` and, for a case
that failed, ``"error"``. The naive baseline is a run directory of the same shape, by default
`RUN_DIR/baseline`. The report, `RUN_DIR/report.md`, puts the pipeline beside the baseline,
then one table per run with a row per case, the problems found in each draft, and three PNG
plots written next to it.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

REPORT_FILE = "report.md"
PLOT_FIGURES = "figures_per_case.png"
PLOT_SECONDS = "seconds.png"
PLOT_COMPARISON = "pipeline_vs_baseline.png"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str  # Chinese, for the report tables
    kind: str  # "ratio" | "count" | "seconds" | "float"
    higher_is_better: bool


SUMMARY_METRICS = (
    Metric("cases", "用例数 cases", "count", True),
    Metric("figure_precision", "数字精确率 figure precision（修复后）", "ratio", True),
    Metric("raw_figure_precision", "修复前数字精确率 raw figure precision", "ratio", True),
    Metric("figure_recall", "数字召回率 figure recall", "ratio", True),
    Metric("simple_figure_precision", "简单核对精确率 simple figure precision（不经核对器）", "ratio", True),
    Metric("misattributed_figures", "张冠李戴的数字 misattributed figures（个，修复后）", "count", False),
    Metric("raw_misattributed_figures", "修复前张冠李戴 raw misattributed figures（个）", "count", False),
    Metric("claim_precision", "工作表述有据率 claim precision（修复后）", "ratio", True),
    Metric("raw_claim_precision", "修复前工作表述有据率 raw claim precision", "ratio", True),
    Metric("ungrounded_claims", "无依据表述 ungrounded claims（处，修复后）", "count", False),
    Metric("raw_ungrounded_claims", "修复前无依据表述 raw ungrounded claims（处）", "count", False),
    Metric("defects_per_draft", "每篇缺陷数 defects per draft", "float", False),
    Metric("leaked_text", "提示词/说明文字泄漏 leaked text（处）", "count", False),
    Metric("misplaced_bullets", "放错小节的要点 misplaced bullets（条）", "count", False),
    Metric("placement_agreement", "与原文分节一致率 placement agreement", "ratio", True),
    Metric("duplicated_statements", "重复表述 duplicated statements（句）", "count", False),
    Metric("cut_off_sentences", "半截句 cut-off sentences（句）", "count", False),
    Metric("filler_sentences", "空话句 filler sentences（句）", "count", False),
    Metric("lost_bullets", "漏写的要点 lost bullets（条）", "count", False),
    Metric("lost_clauses", "要点中漏写的分句 lost clauses（处）", "count", False),
    Metric("vague_quantities", "要点中没有的泛指数量 vague quantities（处）", "count", False),
    Metric("invented_effects", "要点中没有的成效或评价 invented effects（处）", "count", False),
    Metric("example_leakage", "范例数字泄漏 example leakage（个）", "count", False),
    Metric("placeholder_drafts", "含占位符稿件 placeholder drafts（篇）", "count", False),
    Metric("structure_ok", "结构合格率 structure ok", "ratio", True),
    Metric("rougeL_char_f1", "ROUGE-L（字）F1 vs 参考", "float", True),
    Metric("length_ratio", "长度比 length ratio（稿/参考）", "float", True),
    Metric("seconds_median", "耗时中位数 seconds median", "seconds", False),
    Metric("seconds_p90", "耗时 P90 seconds p90", "seconds", False),
    Metric("tokens_per_second", "生成速度 tokens/s", "float", True),
)
# Compared in the pipeline-vs-baseline plot: the shares, all on the 0–1 scale.
COMPARED = ("figure_precision", "raw_figure_precision", "figure_recall", "simple_figure_precision",
            "claim_precision", "structure_ok", "rougeL_char_f1")


@dataclass
class Run:
    name: str
    directory: Path
    summary: dict[str, Any]
    cases: list[dict[str, Any]]


def load_run(directory: Path, name: str) -> Run:
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    with (directory / "cases.jsonl").open(encoding="utf-8") as handle:
        cases = [json.loads(line) for line in handle if line.strip()]
    return Run(name, directory, summary, cases)


def format_value(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "ratio":
        return f"{value:.1%}"
    if kind == "count":
        return str(int(value))
    if kind == "seconds":
        return f"{value:.1f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def format_delta(ours: Any, theirs: Any, kind: str) -> str:
    """Pipeline minus baseline; shares in percentage points."""
    if ours is None or theirs is None:
        return "—"
    delta = ours - theirs
    if kind == "ratio":
        return f"{delta * 100:+.1f} pp"
    return ("+" if delta > 0 else "") + format_value(delta, kind)


def _verdict(metric: Metric, ours: Any, theirs: Any) -> str:
    """Which side is better on this metric (the length ratio is best near 1)."""
    if ours is None or theirs is None or metric.key == "cases":
        return ""
    if ours == theirs:
        return "持平"
    if metric.key == "length_ratio":
        ours_better = abs(ours - 1) < abs(theirs - 1)
    else:
        ours_better = (ours > theirs) == metric.higher_is_better
    return "流水线" if ours_better else "基线"


def summary_table(pipeline: Run, baseline: Run | None) -> list[str]:
    if baseline is None:
        rows = ["| 指标 | 流水线 pipeline |", "|---|---:|"]
        rows += [f"| {m.label} | {format_value(pipeline.summary.get(m.key), m.kind)} |" for m in SUMMARY_METRICS]
        return rows
    rows = ["| 指标 | 流水线 pipeline | 朴素基线 naive baseline | 差值 | 较好 |", "|---|---:|---:|---:|---|"]
    for m in SUMMARY_METRICS:
        ours, theirs = pipeline.summary.get(m.key), baseline.summary.get(m.key)
        rows.append(
            f"| {m.label} | {format_value(ours, m.kind)} | {format_value(theirs, m.kind)} "
            f"| {format_delta(ours, theirs, m.kind)} "
            f"| {_verdict(m, ours, theirs)} |"
        )
    return rows


def run_information(run: Run) -> list[str]:
    """Scalar keys of summary.json that are not metrics (model, strategy, elapsed time …)."""
    metric_keys = {m.key for m in SUMMARY_METRICS}
    return [
        f"- {key}：{value}"
        for key, value in run.summary.items()
        if key not in metric_keys and isinstance(value, (str, int, float, bool))
    ]


def _metrics(row: dict[str, Any]) -> dict[str, Any]:
    return row.get("metrics") or {}


def case_table(run: Run) -> list[str]:
    rows = [
        "| 用例 | 精确率 | 修复前 | 召回率 | 简单核对 | 张冠李戴（前→后） | 无依据表述（前→后） | 泄漏 | 占位符 | 结构 | ROUGE-L | 长度比 | 秒 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in run.cases:
        m = _metrics(row)
        if row.get("error") or not m:
            rows.append(f"| {row.get('id')} | 失败 | | | | | | | | | | | {format_value(row.get('seconds'), 'seconds')} |")
            continue
        simple_numbers = m.get("simple_numbers") or 0
        simple = f"{simple_numbers - len(m.get('simple_unsupported') or [])}/{simple_numbers}"
        rows.append(
            f"| {row.get('id')} | {format_value(m.get('figure_precision'), 'ratio')} "
            f"| {format_value(m.get('raw_figure_precision'), 'ratio')} "
            f"| {format_value(m.get('figure_recall'), 'ratio')} | {simple} "
            f"| {m.get('raw_misattributed_figures', 0)}→{m.get('misattributed_figures', 0)} "
            f"| {m.get('raw_ungrounded_claims', 0)}→{m.get('ungrounded_claims', 0)} "
            f"| {len(m.get('example_leakage') or [])} | {len(m.get('placeholders') or [])} "
            f"| {'✓' if m.get('structure_ok') else '✗'} | {format_value(m.get('rougeL_char_f1'), 'float')} "
            f"| {format_value(m.get('length_ratio'), 'float')} | {format_value(row.get('seconds'), 'seconds')} |"
        )
    return rows


def _counted(items: list[Any], sep: str) -> str:
    """Distinct items in first-seen order, a repeated one with its count: 2x14（14 处）."""
    counts: dict[str, int] = {}
    for item in map(str, items):
        counts[item] = counts.get(item, 0) + 1
    return sep.join(item if n == 1 else f"{item}（{n} 处）" for item, n in counts.items())


def case_problems(run: Run) -> list[str]:
    """One bullet list per case that has anything to look at."""
    lines: list[str] = []
    labels = (
        ("unsupported", "核对器判为无依据的数字或占位符", "、"),
        ("simple_unsupported", "要点中没有的阿拉伯数字", "、"),
        ("example_leakage", "来自范例的数字", "、"),
        ("placeholders", "占位符", "、"),
        ("structure_reasons", "结构问题", "；"),
    )
    for row in run.cases:
        m = _metrics(row)
        items = [f"  - 运行失败：{row['error']}"] if row.get("error") else []
        items += [f"  - {label}：{_counted(m[key], sep)}" for key, label, sep in labels if m.get(key)]
        if items:
            lines += [f"- **{row.get('id')}**", *items]
    return lines or ["（无）"]


def _series(run: Run, key: str) -> list[float]:
    """A per-case metric in case order, NaN where it is undefined (no bar is drawn)."""
    values = [_metrics(row).get(key) for row in run.cases]
    return [math.nan if v is None else float(v) for v in values]


def plot_figures_per_case(runs: list[Run], path: Path) -> None:
    ids = [str(row.get("id")) for row in runs[0].cases]
    series = [(run, key) for run in runs for key in ("figure_precision", "figure_recall")]
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(ids)), 4))
    for i, (run, key) in enumerate(series):
        by_id = dict(zip((str(row.get("id")) for row in run.cases), _series(run, key)))
        ax.bar([x + i * width for x in range(len(ids))], [by_id.get(case_id, math.nan) for case_id in ids],
               width, label=f"{run.name}: {key.replace('figure_', '')}", hatch="//" if run is not runs[0] else None)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(ids))], ids, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share")
    ax.set_title("Figure precision and recall per case")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_seconds(runs: list[Run], path: Path) -> None:
    data = [[s for row in run.cases if (s := row.get("seconds")) is not None] for run in runs]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.boxplot(data, tick_labels=[run.name for run in runs])
    for i, values in enumerate(data, start=1):
        ax.scatter([i] * len(values), values, alpha=0.6, zorder=3)
    ax.set_ylabel("seconds per case")
    ax.set_title("Time per case")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_comparison(runs: list[Run], path: Path) -> None:
    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, run in enumerate(runs):
        values = [run.summary.get(key) for key in COMPARED]
        bars = ax.bar([x + i * width for x in range(len(COMPARED))], [math.nan if v is None else v for v in values],
                      width, label=run.name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(COMPARED))], COMPARED, rotation=25, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("Pipeline vs naive baseline")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(run_dir: Path, baseline_dir: Path | None = None) -> Path:
    """Write report.md and its plots into `run_dir`; return the report's path."""
    pipeline = load_run(run_dir, "pipeline")
    if baseline_dir is None and (run_dir / "baseline" / "summary.json").exists():
        baseline_dir = run_dir / "baseline"
    baseline = load_run(baseline_dir, "naive baseline") if baseline_dir else None
    runs = [pipeline] + ([baseline] if baseline else [])
    plot_figures_per_case(runs, run_dir / PLOT_FIGURES)
    plot_seconds(runs, run_dir / PLOT_SECONDS)
    plot_comparison(runs, run_dir / PLOT_COMPARISON)

    lines = [f"# 评测报告 Evaluation report：{run_dir.name}", ""]
    if info := run_information(pipeline):
        lines += ["运行信息：", *info, ""]
    lines += [
        "## 总览 Summary",
        "",
        *summary_table(pipeline, baseline),
        "",
        "精确率 = 稿中有依据的事实数字 / 稿中全部事实数字；召回率 = 稿中写到的要点数字 / 要点中全部数字；"
        "简单核对只比对阿拉伯数字，不经核对器，用来发现核对器的漏洞。长度比越接近 1 越好。",
        "",
        f"![figure precision and recall per case]({PLOT_FIGURES})",
        f"![time per case]({PLOT_SECONDS})",
        f"![pipeline vs baseline]({PLOT_COMPARISON})",
        "",
    ]
    for run in runs:
        title = "流水线 pipeline" if run is pipeline else "朴素基线 naive baseline"
        lines += [f"## 逐例结果：{title}", "", *case_table(run), "", "问题明细：", "", *case_problems(run), ""]
    path = run_dir / REPORT_FILE
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="根据评测运行目录生成 report.md")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--baseline", type=Path, help="朴素基线的运行目录（默认 RUN_DIR/baseline）")
    args = parser.parse_args(argv)
    print(write_report(args.run_dir, args.baseline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
