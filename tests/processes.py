"""Services the end-to-end tests start as real child processes: the API (`python -m drafting
serve`), the page (`streamlit run app.py`)."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from drafting.config import REPO_ROOT


@contextmanager
def running(args: list[str], env: dict[str, str], ready_url: str, log: Path,
            timeout: float = 60.0) -> Iterator[subprocess.Popen[bytes]]:
    """`python ARGS…` from the repository root, its output in `log`, yielded once `ready_url`
    answers 200; stopped (terminated, then killed) afterwards."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, *args], cwd=REPO_ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, f"{' '.join(args)} did not come up:\n{log.read_text(errors='replace')}"
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def page_args(port: int) -> list[str]:
    return ["-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1", "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def serve_args(port: int, workers: int) -> list[str]:
    return ["-m", "drafting", "serve", "--port", str(port), "--workers", str(workers)]
