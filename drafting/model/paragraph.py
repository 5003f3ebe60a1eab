"""Keeping the embedded model to one paragraph of plain prose: no line break, no Markdown.

Two ways to ask llama.cpp for it. A GBNF grammar is exact and can also forbid stopping before
a minimum length, but llama-cpp-python applies it to the whole 152k-token vocabulary before
top-k at every step: about 15 tokens/s here against 24 without. A logit bias that bans every
vocabulary token containing one of the forbidden characters gives the same text at about
21 tokens/s. So the bias is used whenever it can be, and the grammar only when a minimum
length is needed (llama-cpp-python 0.3.x drops both `min_tokens` and `logit_bias` when a
request has the two: `LogitsProcessorList.extend` returns None).

The banned ids depend only on the model's vocabulary; they are computed once with a
vocabulary-only load (about a second) and kept beside the model file.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from drafting.config import EMBEDDED_MODEL_SHA256

FORBIDDEN = "\n#*>|`_"
_CHAR_CLASS = "[^" + FORBIDDEN.replace("\n", r"\n") + "]"
BAN = -100.0


def grammar(min_chars: int = 0) -> str:
    """One paragraph; with `min_chars`, the model may not stop before that many characters."""
    repeat = f"{{{min_chars},}}" if min_chars > 0 else "+"
    return f"root ::= {_CHAR_CLASS}{repeat}"


def bans_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".paragraph-bans.json")


def compute_banned_ids(model_path: Path) -> list[int]:
    """Ids of the vocabulary tokens whose text contains a forbidden character."""
    import llama_cpp

    vocab = llama_cpp.Llama(str(model_path), vocab_only=True, verbose=False)
    banned = []
    for token in range(vocab.n_vocab()):
        piece = vocab.detokenize([token]).decode("utf-8", errors="ignore")
        if any(ch in piece for ch in FORBIDDEN):
            banned.append(token)
    return banned


def ensure_banned_ids(model_path: Path) -> list[int]:
    """The banned ids for the embedded model, computed on first use and kept beside it."""
    path = bans_path(model_path)
    key = {"model_sha256": EMBEDDED_MODEL_SHA256, "forbidden": FORBIDDEN}
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if {k: stored.get(k) for k in key} == key and stored.get("ids"):
            return list(stored["ids"])
    except (OSError, ValueError):
        pass
    ids = compute_banned_ids(model_path)
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps({**key, "ids": ids}), encoding="utf-8")
    tmp.replace(path)
    return ids


@lru_cache(maxsize=2)
def logit_bias(model_path: Path) -> dict[str, float] | None:
    """The request's `logit_bias` that bans the forbidden characters; None if it cannot be built
    (no llama_cpp in this process, or an unreadable model): then the grammar is used."""
    try:
        return {str(token): BAN for token in ensure_banned_ids(model_path)}
    except Exception:
        return None
