"""How far the prompt budgets' token counts are from the embedded model's own (#19).

    .venv/bin/python bench/token_bench.py [--limit 0]

Counts every section of the corpus's past summaries and every held-out case's bullets with
Qwen's own tokenizer (the embedded GGUF loaded vocab-only: no weights, no download), tiktoken's
cl100k_base (what `drafting.model.tokens` budgeted with before #19) and o200k_base (what it uses
for remote models now; the embedded model counts with Qwen's own), and prints the
totals and the ratios to Qwen's count, with the spread over texts. A measurement only: nothing
in the drafting path changes.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drafting.config import REPO_ROOT, get_settings
from drafting.model.tokens import ensure_tiktoken_cache
from drafting.retrieval.corpus import load_summaries
from drafting.retrieval.sections import split_summary


def texts(limit: int) -> list[tuple[str, str]]:
    """(kind, text): past sections, then held-out bullets."""
    out = [("section", s.text) for summary in load_summaries("index") for s in split_summary(summary)]
    cases = REPO_ROOT / "evals" / "cases" / "heldout.jsonl"
    for line in cases.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out += [("bullet", fact) for fact in json.loads(line).get("facts", [])]
    return out[:limit] if limit else out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="at most this many texts (0: all)")
    args = parser.parse_args()

    import llama_cpp
    import tiktoken

    ensure_tiktoken_cache()
    qwen = llama_cpp.Llama(str(get_settings().embedded_model_path), vocab_only=True, verbose=False)
    encodings = {name: tiktoken.get_encoding(name) for name in ("cl100k_base", "o200k_base")}
    rows: dict[str, list[tuple[int, int, dict[str, int]]]] = {}
    for kind, text in texts(args.limit):
        own = len(qwen.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        others = {name: len(enc.encode(text, disallowed_special=())) for name, enc in encodings.items()}
        rows.setdefault(kind, []).append((len(text), own, others))
    for kind, found in rows.items():
        chars = sum(r[0] for r in found)
        own = sum(r[1] for r in found)
        line = {"texts": len(found), "characters": chars, "qwen_tokens": own,
                "qwen_tokens_per_char": round(own / chars, 3)}
        for name in encodings:
            total = sum(r[2][name] for r in found)
            ratios = [r[2][name] / r[1] for r in found if r[1]]
            quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            line[f"{name}_tokens"] = total
            line[f"{name}_over_qwen"] = round(total / own, 3)
            line[f"{name}_over_qwen_p25_p50_p75"] = [round(q, 3) for q in quartiles]
        print(kind, json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main()
