"""The benchmark runs on any JSONL of the corpus's shape (a private set, for instance)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("data_dir")  # no user lexicon from the developer's data directory

REPO = Path(__file__).resolve().parent.parent


def test_bench_on_a_small_private_set(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (REPO / "corpus" / "seed_summaries.jsonl").read_text(encoding="utf-8").splitlines()]
    picked = [{"id": r["id"], "text": r["text"]} for r in rows if r["id"] in ("seed-003-07", "seed-003-13")]
    picked.append({"id": "masked", "text": "20xx年，新建工会xx家。", "quality": "masked"})
    corpus = tmp_path / "private.jsonl"
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in picked), encoding="utf-8")
    cmd = [sys.executable, "bench/checker_bench.py", "--corpus", str(corpus), "--per-kind", "2",
           "--restatements", "1", "--timing-runs", "1", "--json"]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summaries"] == 2  # the masked row is skipped
    assert data["self_check"]["false_errors"] == 0
    assert data["restated"]["false_errors"] == 0
    assert data["seeded"]["value_changed"]["seeded"] == 4
    assert data["recall"] >= 0.9
    assert data["ms_per_2000_chars"]["median"] > 0
