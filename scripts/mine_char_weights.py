"""Writes drafting/checker/data/char_weights.tsv: in how many sentences of the indexed past summaries
each character occurs (held-out summaries left out, so evaluation text does not shape the
checker). Run from the repository root: .venv/bin/python scripts/mine_char_weights.py"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drafting.checker.clauses import WEIGHTS_PATH, sentence_spans
from drafting.retrieval.corpus import load_summaries


def document_frequencies() -> tuple[int, Counter[str]]:
    df: Counter[str] = Counter()
    n = 0
    for summary in load_summaries("index"):
        for start, end in sentence_spans(summary.text):
            df.update(set(summary.text[start:end]))
            n += 1
    return n, df


def render() -> str:
    n, df = document_frequencies()
    rows = sorted((ch, count) for ch, count in df.items() if ch.strip())
    return "\n".join([f"#sentences\t{n}", *(f"{ch}\t{count}" for ch, count in rows)]) + "\n"


if __name__ == "__main__":
    WEIGHTS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {WEIGHTS_PATH}")
