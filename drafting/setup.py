"""`python -m drafting setup`: every local asset brought up to date, each by the module that owns
it — the tiktoken cache (`model.tokens`), the embedded model and its paragraph constraint
(`model.assets`, `model.paragraph`), the retrieval index (`retrieval.index`). Idempotent: a
second run costs well under a second.
"""
from __future__ import annotations

from drafting.config import get_settings
from drafting.model.assets import ensure_model, log
from drafting.model.tokens import ensure_tiktoken_cache


def ensure_all(build_index: bool = True, progress: bool = True) -> None:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ensure_tiktoken_cache(settings)
    if settings.uses_embedded_model:
        from drafting.model.paragraph import ensure_banned_ids

        ensure_banned_ids(ensure_model(settings, progress=progress))
    if build_index:
        from drafting.retrieval.index import ensure_index

        ensure_index(progress=progress)
    log("准备完成。", progress)
