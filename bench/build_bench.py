"""Two llama.cpp builds of the embedded model, in process, side by side: prompt evaluation and
generation rates of the same section prompt, rounds alternating between the builds in one run.

    .venv/bin/python bench/build_bench.py --other /tmp/tv3 [--rounds 3]

`--other` is a folder a second llama-cpp-python wheel was installed into (`pip install --no-deps
--target DIR WHEEL`, e.g. the x86-64-v3 wheel that `DRAFTING_LLAMA_PORTABLE=1 scripts/bootstrap.sh`
builds); the first build is the one installed in this environment. Each measurement runs in a
child process whose PYTHONPATH puts the build first, so the two never share a loaded library.
Prints per round and build: prompt tokens, prompt tokens/s (the whole prompt evaluated from an
empty cache) and generation tokens/s (greedy, up to 96 tokens); then the medians and their ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATED_TOKENS = 96


def measure() -> dict[str, float | str]:
    """One measurement in this process, with whichever llama_cpp it imports."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import llama_cpp
    from model_bench import SECTION

    from drafting import config
    from drafting.flow.write import WriteContext, section_prompt
    from drafting.model.llm import _chatml

    settings = config.get_settings()
    llm = llama_cpp.Llama(model_path=str(settings.embedded_model_path), n_ctx=2048, n_threads=settings.model_threads,
                          n_threads_batch=settings.model_threads, verbose=False)
    prompt = section_prompt(SECTION, WriteContext(org="东湖街道总工会", period="上半年", lead="上半年"), 300, 0)
    tokens = llm.tokenize(_chatml(prompt).encode(), special=True)
    started = time.perf_counter()
    llm.eval(tokens)
    prompt_s = time.perf_counter() - started
    started, generated = time.perf_counter(), 0
    for token in llm.generate(tokens, temp=0.0, top_k=1):
        generated += 1
        if generated >= GENERATED_TOKENS or token == llm.token_eos():
            break
    return {"build": str(Path(llama_cpp.__file__).parent), "prompt_tokens": len(tokens),
            "prompt_tokens_per_s": len(tokens) / prompt_s, "generation_tokens_per_s": generated / (time.perf_counter() - started)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--other", required=True, help="folder holding the second build (pip install --target)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure()))
        return 0
    builds = {"installed": "", "other": str(Path(args.other).resolve())}
    results: dict[str, list[dict[str, float | str]]] = {name: [] for name in builds}
    for round_ in range(args.rounds):
        for name, path in builds.items():
            env = {**os.environ, "PYTHONPATH": path} if path else {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            out = subprocess.run([sys.executable, __file__, "--other", args.other, "--child"], env=env, check=True,
                                 capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            results[name].append(result)
            print(f"round {round_ + 1}, {name} ({result['build']}): {result['prompt_tokens']} prompt tokens, "
                  f"prompt {result['prompt_tokens_per_s']:.1f} tokens/s, generation {result['generation_tokens_per_s']:.2f} tokens/s")
    medians = {name: {key: statistics.median(float(r[key]) for r in rows)
                      for key in ("prompt_tokens_per_s", "generation_tokens_per_s")} for name, rows in results.items()}
    for key in ("prompt_tokens_per_s", "generation_tokens_per_s"):
        a, b = medians["installed"][key], medians["other"][key]
        print(f"median {key}: installed {a:.2f}, other {b:.2f} (installed ×{a / b:.2f} of other)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
