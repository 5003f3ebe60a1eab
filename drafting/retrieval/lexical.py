"""Character n-gram BM25 for Chinese (no word segmentation), kept on disk in SQLite.

Character 1–2-grams beat jieba words for this genre (offline-stack.md). Nothing is held in
memory: every process reads the same SQLite file, so a section added by one process (a page
upload, `index add`) is found by the others as soon as its transaction commits, and adding
one summary writes only its own rows.

Two parts, because ranking a million sections by full BM25 at every query is too slow:

- **Candidates**: one FTS5 table per part (the section kind; private uploads apart) whose
  tokens are the sections' character bigrams. A query asks the wanted kind's table for the
  union of its rarest bigrams (as many as `CANDIDATE_POSTINGS` allow), ordered by FTS5's own
  bm25. A table per kind, not one table with a kind column: at 10⁶ sections, intersecting the
  bigrams with the kind token `topic` (73% of the sections) cost 67 ms of an 84 ms query.
  Rare terms carry nearly all of BM25's weight (their IDF is highest), and skipping the
  frequent ones keeps a query's postings short.
- **Scores**: the candidates (from both retrievers) are then scored by the exact Okapi BM25
  over 1–2-grams, with document frequencies and the average length kept in tables updated on
  every write, so the score does not depend on which retriever found a section.

Terms found in more than `MAX_DF` of the sections (工, 会, 职工 …: IDF near 1, little ranking
value) are skipped once the index holds `MIN_DOCS_TO_SKIP` sections.
"""
from __future__ import annotations

import json
import math
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

_NON_TEXT = re.compile(r"[\s\W_]+")
MAX_DF = 0.3  # skip query terms found in more than this share of the sections …
MIN_DOCS_TO_SKIP = 1000  # … once the index is large enough for them to cost time
# The query's rarest bigrams fetch the lexical candidates: as many as fit in this many postings
# (FTS5's time grows with the postings it reads: 9 ms for 10,000 at 10⁴ sections, 15 ms for
# 20,000), and never fewer than MIN_CANDIDATE_TERMS. On the labelled set of the corpus index,
# hit@k and MRR are the same at 10,000, 20,000 and 40,000 postings.
CANDIDATE_POSTINGS = 10_000
MIN_CANDIDATE_TERMS = 6
K1, B = 1.2, 0.75
PRIVATE_PART = "private"  # one user's uploads: never lexical candidates (all of them join the pool)

SCHEMA_VERSION = 2  # 1: one FTS5 table `grams` with a part column (migrated on open)
_PART_NAME = re.compile(r"[a-z]+")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, part TEXT NOT NULL,
    summary_id TEXT NOT NULL, source TEXT NOT NULL, owner TEXT NOT NULL, length INTEGER NOT NULL,
    meta TEXT NOT NULL, document TEXT NOT NULL, vector BLOB);
CREATE INDEX IF NOT EXISTS docs_summary ON docs(summary_id);
CREATE INDEX IF NOT EXISTS docs_owner ON docs(owner);
CREATE INDEX IF NOT EXISTS docs_source ON docs(source);
CREATE TABLE IF NOT EXISTS parts (part TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS df (term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS totals (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
"""


def terms(text: str, max_n: int = 2) -> Counter[str]:
    """Character n-grams (1..max_n) of each run of word characters, with counts."""
    counts: Counter[str] = Counter()
    for run in _NON_TEXT.split(text):
        for n in range(1, max_n + 1):
            counts.update(run[i : i + n] for i in range(len(run) - n + 1))
    return counts


@dataclass(frozen=True)
class LexicalDoc:
    """One section as the lexical index stores it: beside its terms, its metadata and vector,
    so that a lexical candidate is complete without asking the vector store for it."""

    id: str
    part: str  # the section kind, or PRIVATE_PART
    meta: dict[str, Any]  # as stored in chromadb: summary_id, source, owner, text, masked …
    text: str  # the document: what is embedded and BM25-scored
    vector: np.ndarray | None = None  # None: keep the stored one (an update of metadata alone)


@dataclass(frozen=True)
class Stored:
    """A stored section as a query needs it."""

    id: str
    meta: dict[str, Any]
    document: str
    vector: np.ndarray | None


class LexicalIndex:
    """The on-disk lexical index (one SQLite file, safe for several processes)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == 1:
            self._split_grams_by_part()
        elif version != SCHEMA_VERSION:
            # A new file, or one of an unknown layout: start empty (ExampleIndex brings it in step
            # with the collections when it opens).
            kept = [row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'parts'")]
            stale = [_table(part) for part in (self._parts(self._db) if kept else [])]
            self._db.executescript("".join(f"DROP TABLE IF EXISTS {table};"
                                           for table in ("docs", "grams", "df", "totals", "parts", *stale))
                                   + f"PRAGMA user_version = {SCHEMA_VERSION};")
        self._db.executescript(_SCHEMA)  # every statement IF NOT EXISTS: adds what a kept file lacks

    def _split_grams_by_part(self) -> None:
        """Layout 1 → 2: move each section's stored bigrams from the one `grams` table into its
        part's table (nothing is read from the vector store again)."""
        self._db.executescript(_SCHEMA)  # executescript commits first: not inside the transaction
        with self._transaction() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] != 1:
                return  # another process migrated it while this one waited for the lock
            rows = db.execute("SELECT grams.rowid, docs.part, grams.body FROM grams JOIN docs ON docs.rowid = grams.rowid")
            while batch := rows.fetchmany(10_000):
                for part in {part for _, part, _ in batch}:
                    table = self._grams_table(db, part)
                    db.executemany(f"INSERT INTO {table} (rowid, body) VALUES (?, ?)",
                                   [(rowid, body) for rowid, p, body in batch if p == part])
            db.execute("DROP TABLE grams")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def _db(self) -> sqlite3.Connection:
        """This thread's connection (API requests run in threads; a connection is not shared)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def clear(self) -> None:
        """Drop every section (a forced rebuild)."""
        with self._transaction() as db:
            for table in ("docs", "df", "totals", *(_table(part) for part in self._parts(db))):
                db.execute(f"DELETE FROM {table}")

    # --- writing -----------------------------------------------------------------------------

    def add(self, docs: Iterable[LexicalDoc]) -> None:
        """Add or replace sections (by id), in one transaction."""
        docs = list(docs)
        if not docs:
            return
        with self._transaction() as db:
            kept = {row.id: row.vector for row in self._rows(db, [d.id for d in docs if d.vector is None])}
            self._delete(db, [d.id for d in docs])
            tables = {part: self._grams_table(db, part) for part in {d.part for d in docs}}
            df: Counter[str] = Counter()
            total = 0
            for doc in docs:
                counts = terms(doc.text)
                length = sum(counts.values())
                total += length
                df.update(counts.keys())
                vector = doc.vector if doc.vector is not None else kept.get(doc.id)
                cursor = db.execute(
                    "INSERT INTO docs (id, part, summary_id, source, owner, length, meta, document, vector)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc.id, doc.part, doc.meta["summary_id"], doc.meta["source"], doc.meta.get("owner", ""), length,
                     json.dumps(doc.meta, ensure_ascii=False), doc.text,
                     None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()))
                db.execute(f"INSERT INTO {tables[doc.part]} (rowid, body) VALUES (?, ?)",
                           (cursor.lastrowid, _body(counts)))
            db.executemany("INSERT INTO df (term, n) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET n = n + excluded.n",
                           df.items())
            self._bump(db, len(docs), total)

    def delete(self, ids: Sequence[str]) -> None:
        with self._transaction() as db:
            self._delete(db, ids)

    def _delete(self, db: sqlite3.Connection, ids: Sequence[str]) -> None:
        rows = _by_ids(db, "rowid, length, part", ids)
        if not rows:
            return
        df: Counter[str] = Counter()
        for rowid, _, part in rows:
            body = db.execute(f"SELECT body FROM {_table(part)} WHERE rowid = ?", (rowid,)).fetchone()
            df.update(_stored_terms(body[0] if body else ""))
            db.execute(f"DELETE FROM {_table(part)} WHERE rowid = ?", (rowid,))
        db.executemany("DELETE FROM docs WHERE rowid = ?", [(r,) for r, _, _ in rows])
        db.executemany("UPDATE df SET n = n - ? WHERE term = ?", [(n, t) for t, n in df.items()])
        self._bump(db, -len(rows), -sum(length for _, length, _ in rows))

    @staticmethod
    def _grams_table(db: sqlite3.Connection, part: str) -> str:
        """The FTS5 table of `part`, made at its first section (inside the writing transaction)."""
        if not _PART_NAME.fullmatch(part):
            raise ValueError(f"part name {part!r}")
        table = _table(part)
        db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5(body, tokenize='unicode61 remove_diacritics 0')")
        db.execute("INSERT OR IGNORE INTO parts (part) VALUES (?)", (part,))
        return table

    @staticmethod
    def _parts(db: sqlite3.Connection) -> list[str]:
        return [row[0] for row in db.execute("SELECT part FROM parts ORDER BY part")]

    @staticmethod
    def _bump(db: sqlite3.Connection, docs: int, length: int) -> None:
        db.executemany("INSERT INTO totals (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
                       [("docs", docs), ("length", length)])

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # --- reading -----------------------------------------------------------------------------

    def count(self) -> int:
        return self._totals()[0]

    def ids(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT id FROM docs")}

    def parts_of(self, ids: Sequence[str]) -> dict[str, str]:
        """id → part for those of `ids` that are stored."""
        return dict(_by_ids(self._db, "id, part", ids))

    def sections_where(self, column: str, value: str) -> list[tuple[str, str]]:
        """(id, part) of the sections whose `column` (summary_id or source) is `value`."""
        if column not in ("summary_id", "source"):
            raise ValueError(column)
        return list(self._db.execute(f"SELECT id, part FROM docs WHERE {column} = ?", (value,)))

    def rows(self, ids: Sequence[str]) -> list[Stored]:
        """The stored sections of `ids` (those that are stored)."""
        return self._rows(self._db, ids)

    def owned_by(self, owner: str) -> list[Stored]:
        """Every section `owner` uploaded."""
        return [_stored(row) for row in self._db.execute(
            "SELECT id, meta, document, vector FROM docs WHERE owner = ? AND part = ?", (owner, PRIVATE_PART))]

    @staticmethod
    def _rows(db: sqlite3.Connection, ids: Sequence[str]) -> list[Stored]:
        return [_stored(row) for row in _by_ids(db, "id, meta, document, vector", ids)]

    def summary_counts(self) -> dict[str, int]:
        """How many distinct summaries each source (seed/user) has."""
        return dict(self._db.execute("SELECT source, COUNT(DISTINCT summary_id) FROM docs GROUP BY source"))

    def _totals(self) -> tuple[int, int]:
        values = dict(self._db.execute("SELECT key, value FROM totals"))
        return values.get("docs", 0), values.get("length", 0)

    def _df(self, grams: Iterable[str]) -> dict[str, int]:
        grams = list(grams)
        out: dict[str, int] = {}
        for start in range(0, len(grams), 500):
            chunk = grams[start : start + 500]
            out.update(self._db.execute(f"SELECT term, n FROM df WHERE n > 0 AND term IN ({','.join('?' * len(chunk))})",
                                        chunk))
        return out

    def candidates(self, query: str, n: int, parts: Sequence[str] | None,
                   exclude_summary_ids: Sequence[str] = ()) -> list[tuple[str, str]]:
        """(id, part) of the lexical top-n of each of `parts` (None: every shared kind), fetched
        by the query's rarest bigrams. Parts' FTS5 ranks are not comparable (each table has its
        own statistics), so several parts give up to n each, for the exact BM25 to order."""
        n_docs, _ = self._totals()
        df = self._df(t for t in terms(query) if len(t) == 2)
        usable = sorted((t for t, count in df.items() if not _too_common(count, n_docs)), key=lambda t: (df[t], t))
        if not usable or n <= 0:
            return []
        match = " OR ".join(f'"{t}"' for t in _within_budget(usable, df))
        stored = self._parts(self._db)
        wanted = [p for p in parts if p in stored] if parts else [p for p in stored if p != PRIVATE_PART]
        excluded = f"AND docs.summary_id NOT IN ({','.join('?' * len(exclude_summary_ids))}) " if exclude_summary_ids else ""
        found: list[tuple[str, str]] = []
        for part in wanted:
            table = _table(part)
            sql = (f"SELECT docs.id FROM {table} JOIN docs ON docs.rowid = {table}.rowid WHERE {table} MATCH ? "
                   f"{excluded}ORDER BY {table}.rank LIMIT ?")
            found += [(row[0], part) for row in self._db.execute(sql, [match, *exclude_summary_ids, n])]
        return found

    def scores(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """Exact Okapi BM25 (1–2-grams) of each text for the query, with the index's statistics."""
        return self.scorer(query)(texts)

    def scorer(self, query: str) -> Callable[[Sequence[str]], np.ndarray]:
        """`scores` for one query as a function of the texts: the statistics are read once for
        a query whose candidates are scored in more than one batch."""
        n_docs, total_length = self._totals()
        df = self._df(terms(query)) if n_docs else {}
        idf = {t: math.log1p((n_docs - count + 0.5) / (count + 0.5)) for t, count in df.items()
               if not _too_common(count, n_docs)}
        return partial(_bm25, idf, max(total_length / n_docs, 1e-9) if n_docs else 1.0)


def _bm25(idf: dict[str, float], avg_length: float, texts: Sequence[str]) -> np.ndarray:
    out = np.zeros(len(texts), dtype=np.float32)
    if not idf:
        return out
    for i, text in enumerate(texts):
        # Counting only the query's terms in the text gives the same numbers as `terms(text)`
        # (a term holds no separator, so it never spans two runs) at a tenth of the time.
        runs = [run for run in _NON_TEXT.split(text) if run]
        norm = K1 * (1 - B + B * sum(2 * len(run) - 1 for run in runs) / avg_length)
        joined = " ".join(runs)
        for term, weight in idf.items():
            count = _occurrences(joined, term)
            if count:
                out[i] += weight * count * (K1 + 1) / (count + norm)
    return out


def _occurrences(text: str, term: str) -> int:
    """How many times `term` occurs in `text`, overlaps included (工工 twice in 工工工)."""
    if len(term) == 1 or term[0] != term[1]:
        return text.count(term)
    return sum(1 for i in range(len(text) - 1) if text.startswith(term, i))


def _within_budget(rarest_first: list[str], df: dict[str, int]) -> list[str]:
    """The first terms whose postings add up to at most CANDIDATE_POSTINGS (at least MIN_CANDIDATE_TERMS)."""
    chosen: list[str] = []
    postings = 0
    for term in rarest_first:
        postings += df[term]
        if postings > CANDIDATE_POSTINGS and len(chosen) >= MIN_CANDIDATE_TERMS:
            break
        chosen.append(term)
    return chosen


def _by_ids(db: sqlite3.Connection, columns: str, ids: Sequence[str]) -> list[Any]:
    """`columns` of the docs rows of `ids`, asked 500 ids at a time (SQLite's variable limit)."""
    out: list[Any] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        out += db.execute(f"SELECT {columns} FROM docs WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    return out


def _stored(row: tuple[str, str, str, bytes | None]) -> Stored:
    id_, meta, document, vector = row
    return Stored(id_, json.loads(meta), document, None if vector is None else np.frombuffer(vector, dtype=np.float32))


def _table(part: str) -> str:
    return f"grams_{part}"


def _too_common(count: int, n_docs: int) -> bool:
    return n_docs >= MIN_DOCS_TO_SKIP and count > MAX_DF * n_docs


def _body(counts: Counter[str]) -> str:
    """What FTS5 indexes of a section: its distinct bigrams, and the characters no bigram holds
    (one-character runs), so that `_stored_terms` can give back its exact set of terms."""
    grams = [t for t in counts if len(t) == 2]
    covered = {c for g in grams for c in g}
    return " ".join([*grams, *(t for t in counts if len(t) == 1 and t not in covered)])


def _stored_terms(body: str) -> set[str]:
    """The distinct 1–2-grams of a stored section, from its stored tokens (for deletion)."""
    grams = body.split()
    return {*grams, *(c for g in grams for c in g)}


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error): one writer at a time across processes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if kind else "COMMIT")
