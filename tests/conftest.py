"""Shared fixtures. Unit tests run against a temporary data directory and fake model endpoints;
tests marked `model` use the real embedded model from the repository's data directory."""
from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from drafting import config

_LLM_VARS = ("DRAFTING_LLM_BASE_URL", "DRAFTING_LLM_API_KEY", "DRAFTING_LLM_MODEL",
             "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "DRAFTING_CHROMA_HOST",
             "DRAFTING_CHROMA_PORT", "DRAFTING_API_KEY", "DRAFTING_ENV_FILE")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's endpoint configuration or `.env`."""
    for name in _LLM_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DRAFTING_ENV_FILE", os.devnull)
    config.reset_settings()
    yield
    config.reset_settings()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty data directory for this test."""
    path = tmp_path / "data"
    monkeypatch.setenv("DRAFTING_DATA_DIR", str(path))
    config.reset_settings()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
