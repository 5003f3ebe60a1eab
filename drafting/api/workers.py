"""`serve --workers N`: N uvicorn processes, each with its own listening socket on the port
(SO_REUSEPORT), under a small supervisor.

uvicorn's own multi-process mode shares one listening socket: whichever worker wakes first
accepts every pending connection, so 16 keep-alive clients ended up on one worker (measured:
one at 92 % CPU, the other at 24 %, half the /v1/check throughput of an even split). With a
socket per worker the kernel spreads connections over the workers.

The supervisor restarts a worker that dies, stops all of them on SIGTERM/SIGINT, and each
worker dies with it even on SIGKILL (`app._die_with_the_master`), so a restart binds cleanly.
"""
from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from typing import Any

log = logging.getLogger("drafting.api.app")

_GRACE_S = 35.0  # uvicorn's graceful shutdown (30 s) and a little more
_FAST_FAIL_S = 5.0  # a worker that dies this soon after starting did not start at all


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    try:
        sock = _listen(host, port)
    except OSError as exc:
        sys.stderr.write(f"错误：无法监听 {host}:{port}：{exc.strerror}（端口可能已被其他程序占用）。\n")
        sys.exit(3)
    config = uvicorn.Config("drafting.api.app:create_app", factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def supervise(host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Run `workers` worker processes until SIGTERM/SIGINT; returns the exit status."""
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)

    def start() -> tuple[multiprocessing.process.BaseProcess, float]:
        process = context.Process(target=_worker, args=(host, port, options), name="drafting-api-worker")
        process.start()
        return process, time.monotonic()

    running = [start() for _ in range(workers)]
    status = 0
    while not stop.wait(0.5):
        for i, (process, started) in enumerate(running):
            if process.is_alive():
                continue
            if time.monotonic() - started < _FAST_FAIL_S:
                sys.stderr.write(f"错误：工作进程启动即退出（退出码 {process.exitcode}），服务停止。\n")
                status = 1
                stop.set()
                break
            log.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
            running[i] = start()
    for process, _ in running:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + _GRACE_S
    for process, _ in running:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
    return status
