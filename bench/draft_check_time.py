"""Time the figure checker takes on whole drafts: the drafts of an eval run against their
cases' bullets, each checked 5 times with cold caches; prints the median and mean per draft.

    .venv/bin/python bench/draft_check_time.py --run evals/runs/s3-final3 [--repo /path/to/other/checkout]

With `--repo`, the checker of that checkout is timed instead (a worktree of an older commit),
so that before and after can be measured alternately in one session.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="an eval run directory (cases.jsonl)")
    parser.add_argument("--cases", type=Path, default=REPO / "evals" / "cases" / "heldout.jsonl")
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose checker is timed")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.repo.resolve()))
    try:
        from drafting.checker import check  # type: ignore[attr-defined]
        from drafting.checker.extract import clear_cache
    except ImportError:  # checkouts before the checker became its own package
        from drafting.figures import check  # type: ignore[no-redef]
        from drafting.figures.extract import clear_cache  # type: ignore[no-redef]
    facts = {json.loads(line)["id"]: json.loads(line)["facts"] for line in args.cases.open(encoding="utf-8")}
    rows = [json.loads(line) for line in (args.run / "cases.jsonl").open(encoding="utf-8")]
    medians = []
    for row in rows:
        if "text" not in row:
            continue
        check(row["text"], facts[row["id"]])  # warm the imports and lexicons
        times = []
        for _ in range(args.rounds):
            clear_cache()
            started = time.perf_counter()
            check(row["text"], facts[row["id"]])
            times.append((time.perf_counter() - started) * 1000)
        medians.append(statistics.median(times))
    print(json.dumps({"repo": str(args.repo), "drafts": len(medians), "median_ms": round(statistics.median(medians), 2),
                      "mean_ms": round(statistics.mean(medians), 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
