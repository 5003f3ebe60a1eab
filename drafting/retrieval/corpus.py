"""The seed corpus of past summaries: texts, quality flags and the held-out split.

`corpus/seed_summaries.jsonl` holds the kept summaries, `corpus/seed_manifest.jsonl` their
quality (`clean`, `masked`, `partial`), and `corpus/splits.json` the held-out ids reserved for
evaluation. Held-out summaries are never indexed: `load_summaries("index")` leaves them out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from drafting.config import CORPUS_DIR

Split = Literal["index", "heldout", "all"]

QUALITY_CLEAN = "clean"
QUALITY_MASKED = "masked"  # figures deleted or replaced by x/xx in the source
QUALITY_PARTIAL = "partial"  # a fragment of a summary
QUALITY_USER = "user"  # the user's own file: trusted as clean, but not vetted by us


@dataclass(frozen=True)
class Summary:
    """One past work summary."""

    id: str
    title: str
    org_level: str
    period: str
    text: str
    quality: str = QUALITY_CLEAN
    source: str = "seed"  # "seed" (corpus/) or "user" (added with `index add` or on the page)
    owner: str = ""  # "" shared with everyone; else the one user who may retrieve it ("user:<id>")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@lru_cache(maxsize=4)
def _manifest(corpus_dir: Path) -> dict[str, dict]:
    return {row["id"]: row for row in _read_jsonl(corpus_dir / "seed_manifest.jsonl")}


@lru_cache(maxsize=4)
def _heldout(corpus_dir: Path) -> frozenset[str]:
    splits = json.loads((corpus_dir / "splits.json").read_text(encoding="utf-8"))
    return frozenset(splits["heldout"])


def heldout_ids(corpus_dir: Path = CORPUS_DIR) -> frozenset[str]:
    """Ids reserved for evaluation; these must never reach the retrieval index."""
    return _heldout(corpus_dir)


def load_summaries(split: Split = "index", corpus_dir: Path = CORPUS_DIR) -> list[Summary]:
    """The kept seed summaries of one split, in corpus order.

    "index" = every kept summary except the held-out ones; "heldout" = only those; "all" = both.
    """
    if split not in ("index", "heldout", "all"):
        raise ValueError(f"unknown split {split!r}")
    manifest = _manifest(corpus_dir)
    heldout = heldout_ids(corpus_dir)
    summaries = []
    for row in _read_jsonl(corpus_dir / "seed_summaries.jsonl"):
        is_heldout = row["id"] in heldout
        if (split == "index" and is_heldout) or (split == "heldout" and not is_heldout):
            continue
        summaries.append(
            Summary(
                id=row["id"],
                title=row["title"],
                org_level=row["org_level"],
                period=row["period"],
                text=row["text"],
                quality=manifest.get(row["id"], {}).get("quality", QUALITY_CLEAN),
            )
        )
    return summaries
