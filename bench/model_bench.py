"""Embedded model figures: server start-to-ready time, and generations of ~300 characters
(one section of three bullets with a 300-character target, as the pipeline asks for it),
under each way of holding the model to one paragraph: the logit bias (the default), the
minimum-length grammar (explicit length targets) and no constraint at all.

    .venv/bin/python bench/model_bench.py [--runs 3]

Starts its own server on a free loopback port (so a running one is not disturbed), measures,
and stops it. Prints time to ready, then per run: seconds, characters, tokens, tokens/s and
time to first token.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drafting import config
from drafting.flow.plan import OutlineSection
from drafting.flow.write import MIN_LENGTH_SHARE, WriteContext, section_prompt
from drafting.model import server as model_server
from drafting.model.llm import Prompt, get_client

SECTION = OutlineSection(
    heading="深化帮扶解困，用心服务职工群众",
    facts=["春节走访慰问困难职工120户，发放慰问金36万元", "金秋助学资助困难职工子女15名",
           "为120名环卫工人送去防暑降温用品"],
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ["DRAFTING_MODEL_PORT"] = str(s.getsockname()[1])
    config.reset_settings()
    settings = config.get_settings()
    started = time.monotonic()
    model_server.ensure_running(settings=settings)
    print(f"server start-to-ready: {time.monotonic() - started:.2f} s (load average {os.getloadavg()[0]:.2f})")
    try:
        client = get_client(settings)
        client.stream(Prompt(system="你好", user="你好", max_tokens=1))  # load the weights before timing
        ctx = WriteContext(org="东湖街道总工会", period="上半年", lead="上半年")
        rates: dict[str, list[float]] = {"logit bias": [], "grammar (minimum length)": [], "none": []}
        for run in range(args.runs):
            for constraint, rate in rates.items():
                min_chars = int(300 * MIN_LENGTH_SHARE) if constraint.startswith("grammar") else 0
                prompt = section_prompt(SECTION, ctx, [], 300, client.context_window, run, min_chars=min_chars)
                prompt.paragraph = constraint != "none"
                gen = client.stream(prompt)
                rate.append(gen.tokens_per_second)
                print(f"run {run + 1}, {constraint}: {gen.seconds:.1f} s, {len(gen.text)} chars, "
                      f"{gen.completion_tokens} tokens, {gen.tokens_per_second:.1f} tokens/s, "
                      f"first token {gen.first_token_seconds:.2f} s, line breaks {gen.text.count(chr(10))}")
        for constraint, rate in rates.items():
            print(f"median tokens/s, {constraint}: {statistics.median(rate):.1f}")
    finally:
        model_server.stop(settings=settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
