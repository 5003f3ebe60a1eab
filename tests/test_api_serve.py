"""`python -m drafting serve` as an operator runs it: a real uvicorn master with workers, probed
over raw sockets for what a client library would never send (huge or half-sent headers, bytes
that are not HTTP), and killed with SIGKILL."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.processes import running, serve_args


def _children(pid: int) -> list[int]:
    """The master's worker processes. Not multiprocessing's resource tracker, also its child,
    which leaves on its own once the master has gone (counting it made the SIGTERM test flaky)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status and b"resource_tracker" not in cmdline:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


@contextmanager
def serving(data_dir: Path, workers: int, port: int, **env: str) -> Iterator[subprocess.Popen]:
    with running(serve_args(port, workers), {**os.environ, "DRAFTING_DATA_DIR": str(data_dir), **env},
                 f"http://127.0.0.1:{port}/healthz", data_dir / f"serve-{port}.log") as process:
        yield process


def _raw(port: int, data: bytes, read_timeout: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_sigkill_of_the_master_leaves_no_worker_and_the_port_binds_again(data_dir: Path) -> None:
    port = free_port()
    with serving(data_dir, 2, port) as master:
        workers = _children(master.pid)
        assert len(workers) >= 2
        master.kill()
        master.wait(10)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if _alive(pid)], "workers outlived their master"
    with serving(data_dir, 1, port) as again:  # "address already in use" before
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        again.terminate()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    with serving(tmp_path_factory.mktemp("serve"), 1, port, DRAFTING_API_HEADER_TIMEOUT="1",
                 DRAFTING_API_MAX_CONNECTIONS="40"):
        yield port


def test_a_huge_header_is_refused_in_chinese(server: int) -> None:
    reply = _raw(server, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 431"), reply[:80]
    assert "请求头过大".encode() in reply


def test_a_half_sent_request_is_closed_after_the_header_timeout(server: int) -> None:
    started = time.monotonic()
    reply = _raw(server, b"GET /healthz HTTP/1.1\r\nHost: local")
    assert reply.startswith(b"HTTP/1.1 408") and "秒内发送完整".encode() in reply
    assert time.monotonic() - started < 5


def test_bytes_that_are_not_http_get_a_chinese_json_400(server: int) -> None:
    reply = _raw(server, b"\x16\x03\x01garbage\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400") and b"application/json" in reply
    assert "不是有效的 HTTP 请求".encode() in reply


def test_many_slow_connections_are_closed_and_the_server_keeps_serving(server: int) -> None:
    sockets = []
    for _ in range(60):
        sock = socket.create_connection(("127.0.0.1", server), timeout=10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        sockets.append(sock)
    time.sleep(2.5)  # past the 1 s header timeout
    closed = 0
    for sock in sockets:
        try:
            data = sock.recv(4096)
        except OSError:
            data = b""
        closed += data.startswith(b"HTTP/1.1 408") or data == b""
        sock.close()
    assert closed == len(sockets)
    assert httpx.get(f"http://127.0.0.1:{server}/healthz", timeout=5).status_code == 200


def test_the_master_stops_its_workers_on_sigterm(data_dir: Path) -> None:
    port = free_port()
    with serving(data_dir, 2, port) as master:
        workers = _children(master.pid)
        master.send_signal(signal.SIGTERM)
        master.wait(30)
    assert not [pid for pid in workers if _alive(pid)]


def test_past_the_connection_limit_the_refusal_is_chinese_json(data_dir: Path) -> None:
    port = free_port()
    with serving(data_dir, 1, port, DRAFTING_API_MAX_CONNECTIONS="8"):
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(8)]
        try:
            time.sleep(0.3)
            reply = _raw(port, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        finally:
            for sock in idle:
                sock.close()
    assert reply.startswith(b"HTTP/1.1 503") and "连接过多".encode() in reply, reply[:200]
