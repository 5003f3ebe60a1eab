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
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drafting import config
from tests.fake_llm import FakeLLM
from tests.postgres import Cluster

_LLM_VARS = ("DRAFTING_LLM_BASE_URL", "DRAFTING_LLM_API_KEY", "DRAFTING_LLM_MODEL",
             "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "DRAFTING_CHROMA_HOST",
             "DRAFTING_CHROMA_PORT", "DRAFTING_API_KEY", "DRAFTING_ENV_FILE", "DRAFTING_DATABASE_URL",
             "DRAFTING_TRUSTED_USER_HEADER")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's endpoint configuration or `.env`."""
    for name in _LLM_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DRAFTING_ENV_FILE", os.devnull)
    config.reset_settings()
    yield
    config.reset_settings()


TEST_BACKEND = os.environ.get("DRAFTING_TEST_BACKEND", "sqlite")  # scripts/test.sh runs some files again on "postgresql"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """A fresh, empty data directory for this test; with DRAFTING_TEST_BACKEND=postgresql, its
    history, accounts and model queue in a fresh database of a real PostgreSQL instead."""
    path = tmp_path / "data"
    monkeypatch.setenv("DRAFTING_DATA_DIR", str(path))
    if TEST_BACKEND == "postgresql":
        monkeypatch.setenv("DRAFTING_DATABASE_URL", request.getfixturevalue("postgres").new_database())
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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
SHARED_DATA = ("models", "index", "tiktoken")


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The real embedded model on a port of its own, and the environment for processes that use
    it: a temporary data directory (its own history) whose `models`, `index` and `tiktoken`
    link to the repository's `data/`, where `scripts/bootstrap.sh` assembled the model."""
    from drafting.model import server as model_server
    from drafting.model.assets import model_is_ready

    data = tmp_path_factory.mktemp("embedded-data")
    repo_data = config.REPO_ROOT / "data"
    for name in SHARED_DATA:
        if (repo_data / name).exists():
            (data / name).symlink_to(repo_data / name, target_is_directory=True)
    values = {"DRAFTING_DATA_DIR": str(data), "DRAFTING_MODEL_PORT": str(free_port()),
              "DRAFTING_ENV_FILE": os.devnull}
    mp = pytest.MonkeyPatch()
    for key, value in values.items():
        mp.setenv(key, value)
    config.reset_settings()
    settings = config.get_settings()
    assert model_is_ready(settings), "run scripts/bootstrap.sh first: the model is not assembled"
    model_server.ensure_running(settings=settings)
    yield dict(os.environ)
    model_server.stop(settings=settings)
    mp.undo()
    config.reset_settings()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.2) -> None:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        time.sleep(poll)


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
