"""Fault injection: a fake model on loopback that hangs, answers 500, drops the connection, cuts
the stream or talks nonsense; a model that is slow, flaky or absent; a server killed mid-draft.
Every request ends with a clear response, no accepted request is lost, the service keeps serving."""
from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from drafting.config import REPO_ROOT
from drafting.store import get_store
from tests.api_support import DRAFT_BODY, client, echo, live
from tests.conftest import free_port, use_model
from tests.fake_llm import FakeLLM
from tests.test_api import sse_events

FIGURES = ("8家", "1200名", "120户", "36万元", "15名")


def _assert_plain_and_complete(body: dict) -> None:
    assert body["status"] == "done" and body["check"]["ok"]
    assert all(figure in body["text"] for figure in FIGURES)
    assert "xx" not in body["text"] and "\ufffd" not in body["text"]


@pytest.mark.parametrize("mode", ["hang", "error500", "drop", "cut"])
def test_model_fault_gives_the_flagged_plain_draft_and_service_recovers(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                                        mode: str) -> None:
    with FakeLLM(reply=echo, mode=mode) as model:
        use_model(monkeypatch, model, timeout=1.0)
        with client() as api:
            started = time.monotonic()
            response = api.post("/v1/drafts", json=DRAFT_BODY)
            elapsed = time.monotonic() - started
            assert response.status_code == 200, response.text
            body = response.json()
            _assert_plain_and_complete(body)
            assert body["fallback"] is True and body["notes"][0].startswith("模型暂时无法使用")
            assert "未经模型润色" in body["notes"][0]
            assert api.get(f"/v1/drafts/{body['id']}").json() == body  # stored, not lost
            assert elapsed < 20
            model.mode = "ok"  # the model comes back: the same service drafts normally again
            again = api.post("/v1/drafts", json=DRAFT_BODY).json()
            assert again["fallback"] is False and again["check"]["ok"]
            assert api.get("/healthz").json()["queue"]["active"] == 0


def test_a_stream_cut_midway_is_reported_as_such(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not 连接不上模型服务: the model was reached and stopped sending."""
    with FakeLLM(reply=echo, mode="cut") as model:
        use_model(monkeypatch, model, timeout=2.0)
        with client() as api:
            body = api.post("/v1/drafts", json=DRAFT_BODY).json()
    assert body["fallback"] and "生成途中断开了连接" in body["notes"][0], body["notes"]
    assert "连接不上" not in body["notes"][0]


def test_nonsense_from_the_model_is_repaired_to_the_bullets(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM(reply=echo, mode="garbage") as model:
        use_model(monkeypatch, model)
        with client() as api:
            body = api.post("/v1/drafts", json=DRAFT_BODY).json()
    _assert_plain_and_complete(body)
    assert body["fallback"] is True  # the model answered, but every section had to be restated from its bullets
    assert body["notes"] and all("未通过核对，已改用要点原话表述" in note for note in body["notes"])


def test_unreachable_or_misconfigured_model_falls_back(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_model(monkeypatch, None)  # nothing listens there
    with client() as api:
        body = api.post("/v1/drafts", json=DRAFT_BODY).json()
    _assert_plain_and_complete(body)
    assert body["fallback"] and "连接不上模型服务" in body["notes"][0]
    monkeypatch.delenv("DRAFTING_LLM_MODEL")
    from drafting import config

    config.reset_settings()
    with client() as api:
        body = api.post("/v1/drafts", json=DRAFT_BODY).json()
    assert body["fallback"] and "DRAFTING_LLM_MODEL" in body["notes"][0]


@pytest.mark.parametrize("failures, expect_retry_event", [(2, False), (4, True)])
def test_transient_errors_are_retried_with_backoff(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                   failures: int, expect_retry_event: bool) -> None:
    """The client retries each call twice; after that the API retries the draft once."""
    with FakeLLM(reply=echo, fail_first=failures) as model:
        use_model(monkeypatch, model)
        with client(retries=1) as api:
            events = sse_events(api.post("/v1/drafts/stream", json=DRAFT_BODY).text)
    kinds = [kind for kind, _ in events]
    result = events[-1][1]
    assert kinds[-1] == "result" and result["fallback"] is False and result["check"]["ok"]
    assert ("retry" in kinds) is expect_retry_event
    assert len(model.requests) > failures


def test_slow_model_hits_the_deadline_and_falls_back(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM(reply=echo, delay=0.2, chunk_chars=2) as model:
        use_model(monkeypatch, model)
        with client(draft_timeout=1.0) as api:
            started = time.monotonic()
            body = api.post("/v1/drafts", json=DRAFT_BODY).json()
    assert time.monotonic() - started < 5
    _assert_plain_and_complete(body)
    assert body["fallback"] and body["notes"][0].startswith("模型生成超时")


@pytest.mark.parametrize("mode", ["hang", "ok"])
def test_the_draft_deadline_holds_whatever_the_model_does(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                          mode: str) -> None:
    """A silent model (hang) and a dribbling one (a piece every 0.5 s) with a 3 s draft deadline and
    a 60 s client timeout: the flagged fallback comes back within the deadline and a few seconds.
    The call used to wait for the client's timeout, and the client retried it twice."""
    with FakeLLM(reply=echo, mode=mode, delay=0.5 if mode == "ok" else 0.0) as model:
        use_model(monkeypatch, model, timeout=60.0)
        with client(draft_timeout=3.0) as api:
            started = time.monotonic()
            body = api.post("/v1/drafts", json=DRAFT_BODY).json()
            elapsed = time.monotonic() - started
    assert elapsed < 3.0 + 5.0, elapsed
    _assert_plain_and_complete(body)
    assert body["fallback"] and body["notes"][0].startswith("模型生成超时"), body["notes"]
    assert len(model.requests) == 1  # not retried after the deadline


def test_the_endpoint_address_is_never_returned(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM(reply=echo) as model:
        use_model(monkeypatch, model)
        with client() as api:
            ok = api.post("/v1/drafts", json=DRAFT_BODY)
            model.mode = "error500"
            failed = api.post("/v1/drafts", json=DRAFT_BODY)
    assert ok.json()["model"] == "fake-model"
    assert failed.json()["fallback"]
    for response in (ok, failed):
        assert model.base_url.split("//")[1].split("/")[0] not in response.text


def test_concurrent_requests_under_faults_all_end_clearly(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """16 clients at once against a failing model, a small queue and a short wait: every answer is
    200 (a flagged plain draft), 429 or 503 with Retry-After; every stored row is finished or
    failed with its input; the service still answers."""
    with FakeLLM(reply=echo, mode="error500") as model:
        use_model(monkeypatch, model)
        with live(queue_size=3, queue_wait=1.5, retries=0) as server, httpx.Client(base_url=server.url, timeout=60) as http:
            def one(i: int) -> httpx.Response:
                return http.post("/v1/drafts", json=DRAFT_BODY, headers={"X-Request-ID": f"load-{i}"})

            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                responses = list(pool.map(one, range(16)))
            statuses = sorted(r.status_code for r in responses)
            assert set(statuses) <= {200, 429, 503} and 200 in statuses, statuses
            for r in responses:
                if r.status_code == 200:
                    assert r.json()["fallback"] is True
                else:
                    assert int(r.headers["retry-after"]) >= 1 and r.json()["detail"]
            assert http.get("/healthz").json()["queue"] == {"slots": 1, "active": 0, "waiting": 0, "queue_size": 3}
            model.mode = "ok"
            assert http.post("/v1/drafts", json=DRAFT_BODY).json()["fallback"] is False
    store = get_store()
    rows = [store.get_draft(i) for i in range(1, 18)]
    accepted = [r for r in rows if r is not None]
    assert len(accepted) == 1 + sum(1 for s in statuses if s != 429)  # 429s are refused before storing
    assert all(r.status in ("done", "failed") and r.request["org"] for r in accepted)


def test_server_killed_mid_draft_keeps_the_request(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real `serve` process is killed (SIGKILL) while the model is writing; on the next start the
    request is reported as interrupted, with the user's input."""
    with FakeLLM(reply=echo, mode="hang") as model:
        use_model(monkeypatch, model, timeout=60)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "drafting", "serve", "--port", str(port)], cwd=REPO_ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
            outcome: dict = {}

            def post() -> None:
                try:
                    httpx.post(f"{url}/v1/drafts", json=DRAFT_BODY, headers={"X-Request-ID": "crash-1"}, timeout=60)
                except httpx.HTTPError as exc:
                    outcome["error"] = exc

            caller = threading.Thread(target=post)
            caller.start()
            while not model.requests:  # the model has been asked: the draft is running
                assert time.monotonic() < deadline
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            caller.join(10)
            assert isinstance(outcome.get("error"), httpx.HTTPError)  # the caller saw the crash
        finally:
            if proc.poll() is None:
                proc.kill()
    with client() as api:  # the next start
        found = api.get("/v1/drafts", params={"request_id": "crash-1"}).json()["drafts"]
    assert len(found) == 1
    assert found[0]["status"] == "interrupted" and "要点已保存" in found[0]["error"]
    assert found[0]["request"]["sections"][0]["facts"] == DRAFT_BODY["facts"]


def test_stream_client_leaving_early_does_not_lose_the_draft(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM(reply=echo, delay=0.02) as model:
        use_model(monkeypatch, model)
        with live() as server, httpx.Client(base_url=server.url, timeout=30) as http:
            with http.stream("POST", "/v1/drafts/stream", json=DRAFT_BODY) as response:
                first = next(response.iter_lines())
            assert first == "event: accepted"  # then the client hangs up
            deadline = time.monotonic() + 30
            while (row := http.get("/v1/drafts/1").json())["status"] != "done":
                assert time.monotonic() < deadline and row["status"] in ("accepted", "running")
                time.sleep(0.1)
    assert row["check"]["ok"] and all(figure in row["text"] for figure in FIGURES)
