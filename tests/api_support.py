"""Helpers shared by the HTTP API tests: fake-model replies, an app wired to a fake model, and a
real uvicorn server on a loopback port for tests that need true concurrency or a crash."""
from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from drafting.api.app import create_app
from drafting.config import ApiSettings, load_settings
from tests.conftest import free_port

ORG, PERIOD, YEAR = "东湖街道总工会", "上半年", 2024
FACTS = ["新建非公企业工会8家，新发展会员1200名", "春节走访慰问困难职工120户，发放慰问金36万元",
         "金秋助学资助困难职工子女15名"]
DRAFT_BODY: dict[str, Any] = {"org": ORG, "period": PERIOD, "year": YEAR, "facts": FACTS, "options": {"examples": 0}}


def bullets_in(body: dict[str, Any]) -> list[str]:
    """The bullets a section or repair prompt lists (`- …` lines)."""
    prompt = body.get("prompt") or body["messages"][-1]["content"]
    return re.findall(r"^- (.+)$", prompt, flags=re.M)


def echo(body: dict[str, Any]) -> str:
    """A well-behaved model: states each bullet of the prompt."""
    return "".join(f"{fact}，工作扎实推进。" for fact in bullets_in(body))


def blocked_echo(release: threading.Event) -> Any:
    """A reply that waits (up to 10 s) until `release` is set, then echoes the bullets."""
    def reply(body: dict[str, Any]) -> str:
        release.wait(10)
        return echo(body)

    return reply


def settings(**overrides: Any) -> ApiSettings:
    """The API settings from the environment, with test overrides (short waits and backoff)."""
    base = dataclasses.replace(load_settings().api, retry_backoff=0.05)
    return dataclasses.replace(base, **overrides)


def client(**overrides: Any) -> TestClient:
    return TestClient(create_app(settings(**overrides)), raise_server_exceptions=False, base_url="http://localhost")


class LiveServer:
    """The app under uvicorn in a background thread, on a free loopback port."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False))
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(15)


@contextmanager
def live(**overrides: Any) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings(**overrides))) as server:
        yield server
