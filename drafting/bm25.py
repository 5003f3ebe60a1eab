"""Character n-gram BM25 for Chinese (no word segmentation).

Character 1–2-grams beat jieba words for this genre (offline-stack.md). The scorer keeps only
corpus statistics (document frequencies, lengths), so that it can score any set of documents
against the whole corpus's IDF: all of them for pure BM25 retrieval, or the dense retriever's
candidates for fusion, which costs the same at 200 sections as at 100,000.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

_NON_TEXT = re.compile(r"[\s\W_〔〕]+")


def terms(text: str, max_n: int = 2) -> Counter[str]:
    """Character n-grams (1..max_n) of each run of word characters, with counts."""
    counts: Counter[str] = Counter()
    for run in _NON_TEXT.split(text):
        for n in range(1, max_n + 1):
            counts.update(run[i : i + n] for i in range(len(run) - n + 1))
    return counts


class CharBM25:
    """BM25 (k1, b) over character n-grams, with incrementally maintained corpus statistics."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self.df: Counter[str] = Counter()
        self.n_docs = 0
        self.total_len = 0

    def add(self, docs: Iterable[str]) -> None:
        for doc in docs:
            doc_terms = terms(doc)
            self.df.update(doc_terms.keys())
            self.n_docs += 1
            self.total_len += sum(doc_terms.values())

    def remove(self, docs: Iterable[str]) -> None:
        for doc in docs:
            doc_terms = terms(doc)
            self.df.subtract(doc_terms.keys())
            self.n_docs -= 1
            self.total_len -= sum(doc_terms.values())

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray:
        """BM25 score of each document for the query, under the corpus statistics."""
        query_terms = terms(query)
        weights = {t: self.idf(t) for t in query_terms}
        avg_len = self.total_len / self.n_docs if self.n_docs else 1.0
        scores = np.zeros(len(docs), dtype=np.float32)
        for i, doc in enumerate(docs):
            doc_terms = terms(doc)
            norm = self.k1 * (1 - self.b + self.b * sum(doc_terms.values()) / avg_len)
            total = 0.0
            for term, weight in weights.items():
                tf = doc_terms.get(term)
                if tf:
                    total += weight * tf * (self.k1 + 1) / (tf + norm)
            scores[i] = total
        return scores
