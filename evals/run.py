"""`python -m evals.run --cases FILE.jsonl --out DIR [--limit N] [--strategy sectioned|whole]
[--baseline naive] [--force]`: draft every case, score it, write summary.json, cases.jsonl and
report.md (with the naive baseline beside the pipeline when asked).

Resumable: cases already in DIR/cases.jsonl are skipped unless --force. The model comes from
the usual configuration (embedded unless DRAFTING_LLM_BASE_URL is set).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from drafting.checker import extract
from drafting.flow.check import check
from drafting.flow.events import Event
from drafting.flow.request import RequestError, request_from_json
from drafting.model.endpoint import get_client
from drafting.model.llm import LLMClient, LLMError
from drafting.retrieval.corpus import load_summaries
from drafting.retrieval.index import ExampleIndex, ensure_index
from evals.metrics import aggregate, case_metrics
from evals.report import write_report

Drafter = Callable[[dict[str, Any], LLMClient], dict[str, Any]]


def load_cases(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for case in cases:
        missing = {"id", "org", "period", "facts"} - case.keys()
        if missing:
            raise ValueError(f"case {case.get('id', '?')} lacks {sorted(missing)}")
    return cases[:limit] if limit else cases


def case_options(case: dict[str, Any]) -> dict[str, Any]:
    """The case's options; a case drafted from an indexed summary never retrieves that summary."""
    indexed = {s.id for s in load_summaries("index")}
    options = dict(case.get("options", {}))
    if case["id"] in indexed:
        options["exclude_summaries"] = [case["id"]]
    return options


def pipeline_drafter(strategy: str) -> Drafter:
    def run(case: dict[str, Any], client: LLMClient) -> dict[str, Any]:
        from drafting.flow.pipeline import draft

        request = request_from_json({**case, "options": {**case_options(case), "strategy": strategy}})
        started = time.monotonic()
        first: dict[str, float] = {}  # event type → seconds until its first occurrence

        def on_event(event: Event) -> None:
            first.setdefault(event.type, time.monotonic() - started)

        result = draft(request, on_event=on_event, client=client).to_dict()
        result["first_delta_seconds"] = first.get("delta")
        result["first_section_seconds"] = first.get("section_done")
        # The first text shown as checked and final: a long first section's first part, else the section.
        result["first_checked_seconds"] = first.get("part_done", first.get("section_done"))
        return result

    return run


def naive_drafter() -> Drafter:
    def run(case: dict[str, Any], client: LLMClient) -> dict[str, Any]:
        import openai

        from evals.baseline import naive_draft

        request = request_from_json({**case, "options": case_options(case)})
        try:
            result = naive_draft(request, client)
        except (openai.OpenAIError, OSError) as exc:  # langchain-openai raises the client's own errors
            raise LLMError(f"朴素基线调用模型失败：{exc}") from exc
        result["check"] = check(result["text"], request.facts, fields=request.field_texts()).to_dict()
        return result

    return run


def _read_done(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row["id"]: row for row in rows if not row.get("error")}


def rescored(case: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """A stored row scored again with today's checker and metrics (its text as drafted; the
    generation speed, which the row alone cannot give again, carried over)."""
    request = request_from_json(case)
    old = row.get("metrics", {})
    final = check(row["text"], request.facts, fields=request.field_texts()).to_dict()
    result = {"text": row["text"], "raw_text": row.get("raw_text", row["text"]), "check": final,
              "seconds": row.get("seconds"), "examples": [], "sections": row.get("sections", [])}
    metrics = case_metrics(case, result, extract=extract, check=check)
    metrics["example_leakage"] = old.get("example_leakage", metrics["example_leakage"])
    for key in ("generated_tokens", "generation_seconds", "tokens_per_second"):
        metrics[key] = old.get(key)
    return {**row, "check": final, "metrics": metrics}


def run_cases(cases: list[dict[str, Any]], out: Path, drafter: Drafter, connect: Callable[[], LLMClient],
              label: str, force: bool = False, rescore: bool = False) -> dict[str, Any]:
    """Draft and score each case into `out`; returns the summary.

    `connect` is called per case, so an embedded server that died is started again. With
    `rescore`, drafts already in `out` are scored again rather than kept with their old scores.
    """
    out.mkdir(parents=True, exist_ok=True)
    cases_file = out / "cases.jsonl"
    done = {} if force else _read_done(cases_file)
    by_id = {c["id"]: c for c in cases}
    rows = {case_id: (rescored(by_id[case_id], row) if rescore else row)
            for case_id, row in done.items() if case_id in by_id}
    todo = [c for c in cases if c["id"] not in rows]
    bar = tqdm(todo, desc=label, unit="篇", file=sys.stderr)
    for case in bar:
        bar.set_postfix_str(case["id"])
        started = time.monotonic()
        try:
            client = connect()
            result = drafter(case, client)
        except (LLMError, RequestError) as exc:
            rows[case["id"]] = {"id": case["id"], "error": str(exc), "seconds": time.monotonic() - started}
            tqdm.write(f"{case['id']}: 失败：{exc}", file=sys.stderr)
            continue
        result["seconds"] = time.monotonic() - started
        metrics = case_metrics(case, result, extract=extract, check=check)
        rows[case["id"]] = {
            "id": case["id"], "text": result["text"], "raw_text": result.get("raw_text", result["text"]),
            "check": result["check"], "seconds": result["seconds"],
            "first_delta_seconds": result.get("first_delta_seconds"),
            "first_section_seconds": result.get("first_section_seconds"),
            "first_checked_seconds": result.get("first_checked_seconds"),
            "examples": [e.get("summary_id") for e in result.get("examples", [])],
            "sections": [{"heading": s.get("heading"), "facts": len(s.get("facts", [])), "seconds": s.get("seconds"),
                          "repairs": [r["how"] for r in s.get("repairs", [])],
                          "accepted": [bool(r.get("accepted")) for r in s.get("repairs", [])],
                          "phrases": s.get("phrases", [])} for s in result.get("sections", [])],
            "metrics": metrics,
        }
        tqdm.write(f"{case['id']}: {result['seconds']:.0f} 秒，精确率 {metrics['figure_precision']}，"
                   f"召回率 {metrics['figure_recall']}", file=sys.stderr)
        _write_rows(cases_file, cases, rows)
    _write_rows(cases_file, cases, rows)
    scored = [rows[c["id"]]["metrics"] for c in cases if "metrics" in rows.get(c["id"], {})]
    summary = aggregate(scored)
    def slowest(key: str) -> float | None:
        values = [rows[c["id"]].get(key) for c in cases if c["id"] in rows]
        return max((v for v in values if v is not None), default=None)

    summary.update({
        "failed_cases": sum(1 for c in cases if rows.get(c["id"], {}).get("error")),
        "first_delta_seconds_max": slowest("first_delta_seconds"),
        "first_section_seconds_max": slowest("first_section_seconds"),
        "first_checked_seconds_max": slowest("first_checked_seconds"),
        "model": connect().label,
        "label": label,
    })
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def _write_rows(path: Path, cases: list[dict[str, Any]], rows: dict[str, dict[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for case in cases:
            if case["id"] in rows:
                fh.write(json.dumps(rows[case["id"]], ensure_ascii=False) + "\n")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.run", description="在留出案例上评测起草流程")
    parser.add_argument("--cases", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--strategy", choices=("sectioned", "whole"), default="sectioned")
    parser.add_argument("--baseline", choices=("naive",))
    parser.add_argument("--force", action="store_true", help="重跑已完成的案例")
    parser.add_argument("--rescore", action="store_true", help="已完成的案例不重跑，用现在的核对器和指标重新打分")
    args = parser.parse_args(argv)
    cases = load_cases(args.cases, args.limit)
    try:
        get_client()
    except LLMError as exc:
        sys.stderr.write(f"错误：{exc}\n")
        return 2
    # The drafts retrieve their examples and the planner's neighbour votes from the index: an
    # empty or stale one would evaluate another system (an empty one fails nothing, it only
    # drafts without examples and plans by keywords alone).
    ensure_index(progress=True)
    started = time.monotonic()
    summary = run_cases(cases, args.out, pipeline_drafter(args.strategy), get_client, f"pipeline-{args.strategy}",
                        args.force, args.rescore)
    summary["strategy"] = args.strategy
    summary["index_sections"] = ExampleIndex.open().status()["sections"]
    baseline_dir = None
    if args.baseline:
        baseline_dir = args.out / "baseline"
        run_cases(cases, baseline_dir, naive_drafter(), get_client, "naive", args.force, args.rescore)
    summary["run_seconds"] = round(time.monotonic() - started, 1)
    (args.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    report = write_report(args.out, baseline_dir)
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + f"\n报告：{report}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
