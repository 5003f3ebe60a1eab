"""Character n-gram BM25 for Chinese (no word segmentation), as a numpy inverted index.

Character 1–2-grams beat jieba words for this genre (offline-stack.md). The index is built
once from all documents (about 0.3–0.5 ms per section) and scores every document for a query
with one `np.bincount` over the query terms' postings. In a large index, terms found in more
than `MAX_DF` of the documents (工, 会, 职工 …: an IDF near 1, little ranking value, the
longest postings) are skipped, which keeps a query near 10 ms at 87,000 sections (24 ms
without). It is rebuilt, not updated, when the documents change.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_NON_TEXT = re.compile(r"[\s\W_]+")
MAX_DF = 0.3  # skip query terms found in more than this share of the documents …
MIN_DOCS_TO_SKIP = 1000  # … once the index is large enough for them to cost time


def terms(text: str, max_n: int = 2) -> Counter[str]:
    """Character n-grams (1..max_n) of each run of word characters, with counts."""
    counts: Counter[str] = Counter()
    for run in _NON_TEXT.split(text):
        for n in range(1, max_n + 1):
            counts.update(run[i : i + n] for i in range(len(run) - n + 1))
    return counts


class BM25Index:
    """Okapi BM25 (k1, b) over character 1–2-grams of a fixed list of documents."""

    def __init__(self, docs: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        vocab: dict[str, int] = {}
        term_ids: list[int] = []
        doc_ids: list[int] = []
        tfs: list[int] = []
        lengths = np.zeros(len(docs), dtype=np.float32)
        for d, doc in enumerate(docs):
            counts = terms(doc)
            lengths[d] = sum(counts.values())
            for term, count in counts.items():
                term_ids.append(vocab.setdefault(term, len(vocab)))
                doc_ids.append(d)
                tfs.append(count)
        self.vocab = vocab
        self.n_docs = len(docs)
        tid = np.asarray(term_ids, dtype=np.int64)
        order = np.argsort(tid, kind="stable")
        self.postings = np.asarray(doc_ids, dtype=np.int32)[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(tid, minlength=len(vocab)))]).astype(np.int64)
        df = np.diff(self.indptr).astype(np.float32)
        self.idf = np.log1p((self.n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.skip = (df > MAX_DF * self.n_docs) if self.n_docs >= MIN_DOCS_TO_SKIP else np.zeros(len(df), dtype=bool)
        # The BM25 term-frequency part, precomputed per posting.
        tf = np.asarray(tfs, dtype=np.float32)[order]
        avg_len = float(lengths.mean()) if len(docs) else 1.0
        norm = k1 * (1 - b + b * lengths[self.postings] / max(avg_len, 1e-9))
        self.weights = (tf * (k1 + 1) / (tf + norm)).astype(np.float32)

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every document for the query (float32, length n_docs)."""
        ids = [i for i in (self.vocab.get(t) for t in terms(query)) if i is not None and not self.skip[i]]
        if not ids or not self.n_docs:
            return np.zeros(self.n_docs, dtype=np.float32)
        spans = [(self.indptr[t], self.indptr[t + 1]) for t in ids]
        docs = np.concatenate([self.postings[s:e] for s, e in spans])
        weights = np.concatenate([self.weights[s:e] * self.idf[t] for t, (s, e) in zip(ids, spans)])
        return np.bincount(docs, weights=weights, minlength=self.n_docs).astype(np.float32)
