"""Embedded model figures: server start-to-ready time, and generations of ~300 characters
(one section of three bullets with a 300-character target, as the pipeline asks for it).

    .venv/bin/python bench/model_bench.py [--runs 3]                    # the paragraph constraints
    .venv/bin/python bench/model_bench.py lookup [--runs 3] [--n 0,4,8]  # prompt-lookup decoding
    .venv/bin/python bench/model_bench.py lookup --heldout 12 --n 0,4    # …on real held-out section prompts
    .venv/bin/python bench/model_bench.py prefix [--runs 5]               # prompt prefix reuse

The first compares the ways of holding the model to one paragraph: the logit bias (the
default), the minimum-length grammar (explicit length targets) and no constraint at all. The
second starts one server per prompt-lookup length N (0: off) and asks them in turn, plainly and
with the pipeline's constraint, beside llama.cpp in this process without a server (raw), so that
the ratios to raw and to a plain server (no lookup, no constraint) are measured in the same run
rather than remembered. With `--heldout K` the prompts are not one fixed section asked again but
K of the prompts the pipeline writes for the held-out cases (planned as a draft plans them, one
part per call, spread evenly over the cases), each asked once of every server in turn: every
server then evaluates each new prompt as the pipeline's server does, and the lengths are the
pipeline's own. The third asks one server
for the first token of section prompts one after another: a prompt sharing the previous one's
system prompt (as a draft's sections do) against one whose system prompt differs from its first
character, so the time the shared prefix saves is measured, not assumed.

Servers run on free loopback ports (a running one is not disturbed) and are stopped at the end.
Prints per run: seconds, characters, tokens, tokens/s (prompt included) and time to first token;
per server in `lookup`, the median of the per-prompt rates and the total tokens over the total seconds.
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
from drafting.model.endpoint import get_client
from drafting.model.llm import Prompt

SECTION = OutlineSection(
    heading="深化帮扶解困，用心服务职工群众",
    facts=["春节走访慰问困难职工120户，发放慰问金36万元", "金秋助学资助困难职工子女15名",
           "为120名环卫工人送去防暑降温用品"],
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", choices=("constraints", "lookup", "prefix"), default="constraints")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--n", default="0,4,8", help="lookup: prompt-lookup lengths to compare (0: off)")
    parser.add_argument("--heldout", type=int, default=0,
                        help="lookup: ask K real section prompts of the held-out cases instead of one fixed section")
    args = parser.parse_args()
    if args.mode == "lookup":
        prompts = heldout_prompts(args.heldout) if args.heldout else None
        return lookup_bench(args.runs, [int(n) for n in args.n.split(",")], prompts)
    if args.mode == "prefix":
        return prefix_bench(args.runs)
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
                prompt = section_prompt(SECTION, ctx, 300, run, min_chars=min_chars)
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def heldout_prompts(k: int, cases: Path = Path("evals/cases/heldout.jsonl")) -> list[Prompt]:
    """K of the section prompts the pipeline writes for the held-out cases, spread evenly: each
    case planned with its neighbour votes, each section split into the parts one call writes."""
    import json

    from drafting.flow.pipeline import section_parts, section_targets, write_context
    from drafting.flow.plan import plan
    from drafting.flow.request import request_from_json
    from drafting.flow.retrieve import votes_for

    prompts = []
    first_part = config.get_settings().first_part_bullets
    for line in cases.read_text(encoding="utf-8").splitlines():
        request = request_from_json(json.loads(line))
        outline = plan(request, votes_for(request))
        explicit_length = bool(request.options.get("target_chars"))
        for index, (section, target) in enumerate(zip(outline.sections, section_targets(outline, request))):
            parts = section_parts(section, target, explicit_length, first_part if index == 0 else 0)
            prompts.extend(section_prompt(part, write_context(request), part_target, index + n)
                           for n, (part, part_target) in enumerate(parts))
    step = len(prompts) / k
    return [prompts[int(i * step)] for i in range(min(k, len(prompts)))]


def lookup_bench(runs: int, lengths: list[int], prompts: list[Prompt] | None = None) -> int:
    """Servers with prompt-lookup decoding of each length, and raw llama.cpp, asked in turn
    (`prompts`: each asked once, instead of the fixed section `runs` times)."""
    from llama_cpp import Llama

    from drafting.model.llm import _chatml

    servers = {}
    for n in lengths:
        os.environ.update(DRAFTING_MODEL_PORT=str(_free_port()), DRAFTING_MODEL_LOOKUP=str(n))
        config.reset_settings()
        settings = config.get_settings()
        model_server.ensure_running(settings=settings)
        servers[f"server, lookup {n}" if n else "server, no lookup"] = settings
    try:
        clients = {name: get_client(settings) for name, settings in servers.items()}
        for client in clients.values():
            client.stream(Prompt(system="你好", user="你好", max_tokens=1))  # weights loaded before timing
        settings = next(iter(servers.values()))
        raw = Llama(model_path=str(settings.embedded_model_path), n_ctx=4096, n_threads=settings.model_threads,
                    verbose=False)
        ctx = WriteContext(org="东湖街道总工会", period="上半年", lead="上半年")
        # Each server is asked plainly and as the pipeline asks (the paragraph constraint): the
        # no-lookup server asked plainly is a plain llama_cpp.server, the yardstick.
        asks = {f"{name}, {'paragraph constraint' if paragraph else 'no constraint'}": (client, paragraph)
                for name, client in clients.items() for paragraph in (False, True)}
        rates: dict[str, list[float]] = {name: [] for name in [*asks, "raw llama.cpp, in process"]}
        # Tokens and seconds summed per server: the median of per-prompt rates weighs a
        # 14-token answer (mostly prefill) as much as a 150-token one.
        totals: dict[str, list[float]] = {name: [0.0, 0.0] for name in rates}
        for run, prompt in enumerate(prompts or [section_prompt(SECTION, ctx, 300, run) for run in range(runs)]):
            for name, (client, paragraph) in asks.items():
                # As in a draft, the server last saw another prompt with this system part: the
                # system part is kept, the user part is evaluated afresh (asking the same prompt
                # twice in a row would time the second ask without its prompt).
                client.stream(Prompt(system=prompt.system, user="。", max_tokens=1))
                prompt.paragraph = paragraph
                gen = client.stream(prompt)
                rates[name].append(gen.tokens_per_second)
                totals[name][0] += gen.completion_tokens
                totals[name][1] += gen.seconds
                print(f"run {run + 1}, {name}: {gen.seconds:.1f} s, {len(gen.text)} chars, {gen.completion_tokens} tokens, "
                      f"{gen.tokens_per_second:.1f} tokens/s, first token {gen.first_token_seconds:.2f} s")
            raw.create_completion(_chatml(Prompt(system=prompt.system, user="。")), max_tokens=1)
            started = time.monotonic()
            out = raw.create_completion(_chatml(prompt), max_tokens=prompt.max_tokens, temperature=prompt.temperature,
                                        stop=["<|im_end|>", *prompt.stop])
            seconds = time.monotonic() - started
            tokens = out["usage"]["completion_tokens"]
            rates["raw llama.cpp, in process"].append(tokens / seconds)
            totals["raw llama.cpp, in process"][0] += tokens
            totals["raw llama.cpp, in process"][1] += seconds
            print(f"run {run + 1}, raw llama.cpp: {seconds:.1f} s, {len(out['choices'][0]['text'])} chars, "
                  f"{tokens} tokens, {tokens / seconds:.1f} tokens/s")
        raw_median = statistics.median(rates["raw llama.cpp, in process"])
        plain = next((statistics.median(rate) for name, rate in rates.items() if name == "server, no lookup, no constraint"), None)
        for name, rate in rates.items():
            against_plain = f", ×{statistics.median(rate) / plain:.2f} of the plain server" if plain else ""
            print(f"median tokens/s, {name}: {statistics.median(rate):.1f} (×{statistics.median(rate) / raw_median:.2f} of raw"
                  f"{against_plain})")
        overall = {name: tokens / seconds for name, (tokens, seconds) in totals.items() if seconds}
        base = overall.get("server, no lookup, no constraint")
        for name, rate in overall.items():
            print(f"total tokens / total seconds, {name}: {rate:.2f} (×{rate / overall['raw llama.cpp, in process']:.2f} of raw"
                  + (f", ×{rate / base:.2f} of the plain server)" if base else ")"))
    finally:
        for settings in servers.values():
            model_server.stop(settings=settings)
    return 0


OTHER_SECTION = OutlineSection(heading="加强组织建设，夯实工会工作基础",
                               facts=["新建非公企业工会8家，新发展会员1200名", "完成12家基层工会换届选举"])


def prefix_bench(runs: int) -> int:
    """Time to first token for a section prompt after another with the same system prompt
    (llama.cpp keeps the evaluated prefix) and after one whose system prompt differs."""
    os.environ["DRAFTING_MODEL_PORT"] = str(_free_port())
    config.reset_settings()
    settings = config.get_settings()
    model_server.ensure_running(settings=settings)
    try:
        client = get_client(settings)
        client.stream(Prompt(system="你好", user="你好", max_tokens=1))  # weights loaded before timing
        ctx = WriteContext(org="东湖街道总工会", period="上半年", lead="上半年")
        seconds: dict[str, list[float]] = {"shared system prompt": [], "changed system prompt": []}
        for run in range(runs):
            first = section_prompt(SECTION, ctx, 300, run)
            second = section_prompt(OTHER_SECTION, ctx, 300, run)
            for name, system in (("shared system prompt", second.system), ("changed system prompt", "。" + second.system)):
                client.stream(Prompt(system=first.system, user=first.user, max_tokens=1))  # the previous call
                gen = client.stream(Prompt(system=system, user=second.user, max_tokens=1))
                seconds[name].append(gen.first_token_seconds)
                print(f"run {run + 1}, {name}: first token {gen.first_token_seconds:.2f} s")
        shared, changed = (statistics.median(seconds[k]) for k in seconds)
        print(f"median first token: shared {shared:.2f} s, changed {changed:.2f} s (shared/changed ×{shared / changed:.2f}); "
              f"system prompt {len(first.system)} characters, user part {len(second.user)} characters")
    finally:
        model_server.stop(settings=settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
