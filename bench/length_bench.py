"""Length control: drafts with a target length, and how close they come.

    .venv/bin/python bench/length_bench.py [--cases evals/cases/heldout.jsonl] [--limit 2]
        [--targets 800,1500,2500]

For each case and target, drafts with `options.target_chars` on the configured model (the
embedded one unless DRAFTING_LLM_BASE_URL is set) and prints characters written (without
whitespace), the ratio to the target, whether it is within ±20%, the figure check and seconds.
`floor` is the length of the plain draft (title, opening, headings, every bullet stated as it
is, closing): no draft that states every bullet can be much shorter, so a target below it
cannot be honoured and is counted apart.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drafting.flow.pipeline import draft, plain_draft
from drafting.flow.request import request_from_json
from drafting.model.endpoint import get_client

TOLERANCE = 0.2


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=Path, default=Path("evals/cases/heldout.jsonl"))
    parser.add_argument("--limit", type=int, default=2)
    parser.add_argument("--targets", default="800,1500,2500")
    args = parser.parse_args()
    cases = [json.loads(line) for line in args.cases.read_text(encoding="utf-8").splitlines() if line.strip()]
    targets = [int(t) for t in args.targets.split(",")]
    client = get_client()
    within = total = feasible_within = feasible = 0
    print("case\ttarget\tfloor\tchars\tratio\twithin±20%\tfigures_ok\tseconds")
    for case in cases[: args.limit]:
        for target in targets:
            request = request_from_json({**case, "options": {"target_chars": target}})
            floor = _chars(plain_draft(request).text)
            started = time.monotonic()
            result = draft(request, client=client)
            chars = _chars(result.text)
            ratio = chars / target
            ok = abs(ratio - 1) <= TOLERANCE
            within += ok
            total += 1
            if target >= floor:
                feasible += 1
                feasible_within += ok
            print(f"{case['id']}\t{target}\t{floor}\t{chars}\t{ratio:.2f}\t{'yes' if ok else 'no'}\t"
                  f"{result.check['ok']}\t{time.monotonic() - started:.0f}", flush=True)
    print(f"within ±20%: {within}/{total}; of the targets at or above the floor: {feasible_within}/{feasible}")
    return 0


def _chars(text: str) -> int:
    return len(re.sub(r"\s", "", text))


if __name__ == "__main__":
    sys.exit(main())
