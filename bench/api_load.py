"""Load test of the HTTP API on loopback: bounded in requests and time, stops by itself.

    .venv/bin/python bench/api_load.py check  [--workers 2] [--clients 16] [--duration 30] [--rate 300]
    .venv/bin/python bench/api_load.py drafts [--workers 1] [--clients 16] [--duration 300] [--requests 200000] [--whole-seconds]

Each run starts its own server (`python -m drafting serve`) on a free 127.0.0.1 port with a
temporary data directory, drives it with N concurrent keep-alive clients (a minimal asyncio
HTTP/1.1 client, so that the load generator spends little of the shared CPU), then stops it.

check:  POST /v1/check with real past summaries: each request a different ~1,500-character
        window of a corpus summary as the draft and ~10 of its figure-bearing clauses as the
        bullets (bullet-sized: 6–80 characters), so most figures are supported, the rest flagged, and no two drafts are equal
        (the checker's caches do not flatter the result). Reports requests/s and latency
        percentiles.
drafts: POST /v1/drafts against a fast fake model (loopback): status counts (200, and the
        documented 429 queue-full / 503 queue-timeout), latency of the drafts (p50, p95), how
        well each refusal foretold the client's real wait (the client waits as told by
        X-Retry-After-Ms, else Retry-After, and asks again with the refusal's X-Queue-Token
        until it gets in), the queue depth seen on /healthz, and the server's resident memory
        (all its processes) sampled every few seconds.

Prints one JSON object (and `--out FILE` writes it). Only loopback addresses are ever used.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

HOST = "127.0.0.1"  # loopback only, by construction
CORPUS = REPO / "corpus" / "seed_summaries.jsonl"
DRAFT_CHARS, FACTS_PER_DRAFT = 1500, 10
_FIGURE = re.compile(r"\d|[一二三四五六七八九十百千万]+[名家个人次户场项元]")
_CLAUSE = re.compile(r"[^。；！？，,\n]+")


# --- a minimal HTTP/1.1 keep-alive client ----------------------------------------------------

class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", timeout: float = 60.0,
                      extra: str = "") -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        head = (f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n{extra}"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        try:
            return await asyncio.wait_for(self._response(), timeout)
        except BaseException:
            self.close()
            raise

    async def _response(self) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# --- the server under test ------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "drafting", "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                pass
            if _get_json(port, "/healthz").get("status") == "ok":
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start")


def _get_json(port: int, path: str) -> dict[str, Any]:
    async def one() -> dict[str, Any]:
        conn = Connection(port)
        try:
            _, _, body = await conn.request("GET", path, timeout=10)
            return json.loads(body)
        finally:
            conn.close()
    return asyncio.run(one())


def rss_bytes(pid: int) -> int:
    """Resident memory of `pid` and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) * 1024  # type: ignore[union-attr]
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except (OSError, AttributeError):
            continue
        stack += [int(c) for c in children]
    return total


# --- workloads --------------------------------------------------------------------------------

def check_bodies(n: int, seed: int = 7) -> list[bytes]:
    """`n` distinct /v1/check bodies: corpus windows as drafts, their figure sentences as bullets."""
    rng = random.Random(seed)
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [t for t in texts if len(t) > DRAFT_CHARS + 100]
    bodies = []
    while len(bodies) < n:
        text = rng.choice(texts)
        start = rng.randrange(0, len(text) - DRAFT_CHARS)
        window = text[start:start + DRAFT_CHARS]
        clauses = [c.strip() for c in _CLAUSE.findall(window) if _FIGURE.search(c) and 6 <= len(c.strip()) <= 80]
        if len(clauses) < 3:
            continue
        facts = rng.sample(clauses, min(FACTS_PER_DRAFT, len(clauses)))
        bodies.append(json.dumps({"facts": facts, "draft": window, "org": "某区总工会", "period": "上半年"},
                                 ensure_ascii=False).encode())
    return bodies


def draft_bodies(n: int, seed: int = 11) -> list[bytes]:
    rng = random.Random(seed)
    pool = ["新建非公企业工会{}家", "新发展会员{}名", "走访慰问困难职工{}户", "发放慰问金{}万元", "资助困难职工子女{}名",
            "举办职工技能比武{}场", "参赛职工{}余人", "调解劳动争议{}件", "开展普法宣传{}次", "培训工会干部{}人次"]
    return [json.dumps({"org": "东湖街道总工会", "period": "上半年", "year": 2024,
                        "facts": [p.format(rng.randint(2, 900)) for p in rng.sample(pool, 6)]},
                       ensure_ascii=False).encode() for _ in range(n)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def drive(port: int, path: str, bodies: list[bytes], clients: int, duration: float, limit: int,
                sample: float, server_pid: int, rate: float = 0.0, whole_seconds: bool = False) -> dict[str, Any]:
    """`clients` loops posting `bodies` round-robin until `duration` seconds or `limit` requests.

    Closed loop by default (each client sends as soon as its previous answer arrived); with
    `rate` > 0, open loop: the clients together send `rate` requests per second on a fixed
    schedule, and a latency counts from the scheduled time, so a server that falls behind
    cannot hide it.
    """
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    ok_latencies: list[float] = []
    whole_latencies: list[float] = []  # a draft from its first attempt, refusals and waits included
    told_vs_waited: list[tuple[float, float]] = []  # (Retry-After, seconds until this client got in)
    samples: list[dict[str, Any]] = []
    issued = 0
    started = time.monotonic()
    stop_at = started + duration

    async def client(k: int) -> None:
        nonlocal issued
        conn = Connection(port)
        interval = clients / rate if rate else 0.0
        next_at = started + k * interval / clients
        refused_at: float | None = None
        told = 0.0
        token = ""  # the last refusal's X-Queue-Token, sent back with the retry
        first_sent: float | None = None  # the first attempt of the draft being asked for
        while time.monotonic() < stop_at and issued < limit:
            if rate:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            sent = next_at if rate else time.monotonic()
            if first_sent is None:
                first_sent = sent
            next_at += interval
            body = bodies[issued % len(bodies)]
            issued += 1
            try:
                status, headers, _ = await conn.request("POST", path, body, timeout=max(1.0, stop_at - time.monotonic() + 30),
                                                        extra=f"X-Queue-Token: {token}\r\n" if token else "")
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
                continue
            latencies.append(time.monotonic() - sent)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status == 200:
                ok_latencies.append(time.monotonic() - sent)
                whole_latencies.append(time.monotonic() - (first_sent if first_sent is not None else sent))
            if status in (429, 503):
                # A documented refusal: wait as told, as a well-behaved client does, and measure
                # when this client really gets in against what the first refusal foretold.
                # The millisecond hint when given (a fast model's drafts take tens of ms), else Retry-After.
                hint = None if whole_seconds else headers.get("x-retry-after-ms")
                retry_after = int(hint) / 1000 if hint else float(headers.get("retry-after", "1") or 1)
                token = headers.get("x-queue-token", "")
                if refused_at is None:
                    refused_at, told = time.monotonic(), retry_after
                if retry_after > 2:
                    conn.close()  # a pause this long may outlast the server's keep-alive
                await asyncio.sleep(retry_after)
            elif refused_at is not None:
                told_vs_waited.append((told, sent - refused_at))
                refused_at, token = None, ""
            if status not in (429, 503):
                first_sent = None
        conn.close()

    async def sampler() -> None:
        while True:
            monitor = Connection(port)  # a fresh connection: an idle one would outlive keep-alive
            try:
                _, _, body = await monitor.request("GET", "/healthz", timeout=10)
                queue = json.loads(body)["queue"]
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, KeyError):
                queue = {}
            finally:
                monitor.close()
            samples.append({"t": round(time.monotonic() - started, 1),
                            "rss_mb": round(rss_bytes(server_pid) / 2**20, 1),
                            "waiting": queue.get("waiting"), "active": queue.get("active")})
            await asyncio.sleep(sample)

    monitor_task = asyncio.create_task(sampler())
    await asyncio.gather(*(client(k) for k in range(clients)))
    elapsed = time.monotonic() - started
    monitor_task.cancel()
    ok = statuses.get("200", 0)
    return {
        "requests": sum(statuses.values()), "seconds": round(elapsed, 2), "statuses": statuses,
        "ok_per_second": round(ok / elapsed, 1), "offered_rate": rate or None,
        "latency_ms": {q: round(percentile(latencies, p) * 1000, 1) for q, p in
                       (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))},
        "ok_latency_ms": {q: round(percentile(ok_latencies, p) * 1000, 1) for q, p in
                          (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))} if ok_latencies else {},
        "whole_draft_latency_ms": {q: round(percentile(whole_latencies, p) * 1000, 1) for q, p in
                                   (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))} if whole_latencies else {},
        "retry_after": retry_after_fit(told_vs_waited),
        "samples": samples,
    }


def retry_after_fit(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """How well the refusal foretold the wait (its X-Retry-After-Ms, else Retry-After): "within
    2x" means told/waited in [0.5, 2]; waits and estimates under 50 ms count as 50 ms (the
    client's own scheduling is that coarse)."""
    if not pairs:
        return {"refusals": 0}
    ratios = sorted(max(told, 0.05) / max(waited, 0.05) for told, waited in pairs)
    within = sum(1 for r in ratios if 0.5 <= r <= 2.0)
    return {"refusals": len(pairs), "within_2x": within, "within_2x_share": round(within / len(pairs), 3),
            "ratio_p50": round(ratios[len(ratios) // 2], 2), "ratio_min": round(ratios[0], 2),
            "ratio_max": round(ratios[-1], 2),
            "waited_s_p50": round(sorted(w for _, w in pairs)[len(pairs) // 2], 2)}


def summarize_memory(samples: list[dict[str, Any]]) -> dict[str, Any]:
    rss = [s["rss_mb"] for s in samples if s["rss_mb"]]
    if not rss:
        return {}
    warm = rss[len(rss) // 5:] or rss  # after the first fifth (imports, caches, first drafts)
    return {"start_mb": rss[0], "end_mb": rss[-1], "max_mb": max(rss), "after_warmup_min_mb": min(warm),
            "after_warmup_max_mb": max(warm), "growth_after_warmup_mb": round(warm[-1] - warm[0], 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workload", choices=("check", "drafts"))
    parser.add_argument("--workers", type=int, default=None, help="uvicorn workers (check: 2, drafts: 1)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=None, help="seconds (check: 30, drafts: 300)")
    parser.add_argument("--requests", type=int, default=None, help="upper bound on requests")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="check: requests/s offered on a fixed schedule (0: as fast as answers come)")
    parser.add_argument("--warmup", type=float, default=3.0, help="check: seconds of load before measuring")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between memory/queue samples")
    parser.add_argument("--queue-size", type=int, default=8)
    parser.add_argument("--whole-seconds", action="store_true",
                        help="drafts: clients that read only Retry-After (whole seconds), not X-Retry-After-Ms")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="history, accounts and model queue: SQLite in the temporary data directory, or a "
                             "PostgreSQL cluster started for the run (Debian's postgresql, loopback)")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    duration = min(args.duration or (30.0 if args.workload == "check" else 300.0), 900.0)
    limit = args.requests or (20_000 if args.workload == "check" else 200_000)
    workers = args.workers or (2 if args.workload == "check" else 1)
    port = free_port()
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="api-load-") as tmp, contextlib.ExitStack() as stack:
        env = {"DRAFTING_DATA_DIR": tmp, "DRAFTING_ENV_FILE": os.devnull, "DRAFTING_API_KEY": "",
               "DRAFTING_API_QUEUE_SIZE": str(args.queue_size)}
        if args.database == "postgresql":
            from tests.postgres import Cluster

            cluster = Cluster(free_port()).start()
            stack.callback(cluster.stop)
            env["DRAFTING_DATABASE_URL"] = cluster.new_database()
        fake = None
        if args.workload == "drafts":
            from tests.api_support import echo
            from tests.fake_llm import FakeLLM

            fake = FakeLLM(reply=echo, chunk_chars=16).__enter__()
            env.update(DRAFTING_LLM_BASE_URL=fake.base_url, DRAFTING_LLM_MODEL="fake-model", DRAFTING_LLM_TIMEOUT="10")
        server = start_server(port, workers, env)
        try:
            if args.workload == "check":
                bodies = check_bodies(min(limit, 4000))
                if args.warmup > 0:
                    asyncio.run(drive(port, "/v1/check", bodies, args.clients, args.warmup, limit, 60, server.pid))
                result = asyncio.run(drive(port, "/v1/check", bodies[::-1], args.clients, duration, limit,
                                           args.sample, server.pid, args.rate))
            else:
                bodies = draft_bodies(500)
                result = asyncio.run(drive(port, "/v1/drafts", bodies, args.clients, duration, limit,
                                           args.sample, server.pid, whole_seconds=args.whole_seconds))
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
            if fake is not None:
                fake.__exit__(None, None, None)
    result.update(workload=args.workload, database=args.database, workers=workers, clients=args.clients, memory=summarize_memory(result["samples"]),
                  queue_max_waiting=max((s["waiting"] or 0 for s in result["samples"]), default=0),
                  load_before=load_before)
    if args.workload == "check":
        result.pop("samples")
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
