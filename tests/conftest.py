"""Shared fixtures. Unit tests run against a temporary data directory and fake model endpoints;
tests marked `model` use the real embedded model from the repository's data directory."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from drafting import config
from tests.fake_llm import FakeLLM
from tests.postgres import Cluster

_LLM_VARS = ("DRAFTING_LLM_BASE_URL", "DRAFTING_LLM_API_KEY", "DRAFTING_LLM_MODEL",
             "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "DRAFTING_CHROMA_HOST",
             "DRAFTING_CHROMA_PORT", "DRAFTING_API_KEY", "DRAFTING_ENV_FILE", "DRAFTING_DATABASE_URL")


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


def use_model(monkeypatch: pytest.MonkeyPatch, fake: FakeLLM | None, timeout: float = 5.0) -> None:
    """Point the configuration at `fake` (or at a closed loopback port when None)."""
    base_url = fake.base_url if fake else f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("DRAFTING_LLM_BASE_URL", base_url)
    monkeypatch.setenv("DRAFTING_LLM_MODEL", "fake-model")
    monkeypatch.setenv("DRAFTING_LLM_TIMEOUT", str(timeout))
    config.reset_settings()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One real PostgreSQL cluster for the session; tests take fresh databases from it."""
    cluster = Cluster(free_port()).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives, once per backend: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite3")
    cluster: Cluster = request.getfixturevalue("postgres")
    return cluster.new_database()


FEW_SUMMARIES = ("seed-000-01", "seed-003-05", "seed-003-10")  # three summaries keep the embedding short


@pytest.fixture
def chroma_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen]:
    """A real `chroma run` server on a free loopback port, configured as the index, with the corpus
    cut to FEW_SUMMARIES so that building it stays short (the code path is the full build's)."""
    from drafting.retrieval import index as index_module
    from drafting.retrieval.corpus import load_summaries

    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma console script is installed with chromadb"
    port = free_port()
    log_path = tmp_path / "chroma.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                                   "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.5)
        monkeypatch.setenv("DRAFTING_CHROMA_HOST", "127.0.0.1")
        monkeypatch.setenv("DRAFTING_CHROMA_PORT", str(port))
        monkeypatch.setenv("DRAFTING_DATA_DIR", str(tmp_path / "data"))
        config.reset_settings()
        few = [s for s in load_summaries("index") if s.id in FEW_SUMMARIES]
        monkeypatch.setattr(index_module, "load_summaries", lambda split: few)
        server.port = port  # type: ignore[attr-defined]
        yield server
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
