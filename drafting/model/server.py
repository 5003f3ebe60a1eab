"""The embedded model behind a real OpenAI-compatible server (`llama_cpp.server`) on loopback.

`ensure_running()` reuses a server that already answers on the port, or starts one detached
(so the next CLI call or page reload does not pay the load again) and waits until it answers.
A file lock serialises concurrent starters; a pid file lets `stop()` end it cleanly.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from drafting.config import EMBEDDED_CONTEXT_WINDOW, EMBEDDED_MODEL_ALIAS, Settings, get_settings
from drafting.model.assets import ensure_model
from drafting.model.llm import warm_up

READY_TIMEOUT_S = 180.0


class ModelServerError(RuntimeError):
    """The embedded server could not be started. The message is Chinese."""


@dataclass(frozen=True)
class ServerHandle:
    base_url: str
    port: int
    pid: int | None
    reused: bool


def _port(settings: Settings, port: int | None) -> int:
    return port if port is not None else settings.model_port


def _paths(settings: Settings, port: int) -> tuple[Path, Path, Path]:
    run = settings.run_dir
    run.mkdir(parents=True, exist_ok=True)
    return run / f"model-{port}.pid", run / f"model-{port}.log", run / f"model-{port}.lock"


def _answers(port: int, timeout: float = 2.0) -> list[str] | None:
    """Model ids served on the port, or None when nothing answers there."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=timeout) as resp:
            payload = json.loads(resp.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return [m.get("id", "") for m in payload.get("data", [])]


def _port_open(port: int) -> bool:
    """Something accepts connections on the port (a busy llama.cpp server may not answer HTTP for a while)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


def server_command(model_path: Path, port: int, threads: int, lookup_tokens: int = 0) -> list[str]:
    lookup = ["--draft_model", "prompt-lookup-decoding", "--draft_model_num_pred_tokens", str(lookup_tokens)]
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path),
        "--model_alias", EMBEDDED_MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(EMBEDDED_CONTEXT_WINDOW),
        "--n_threads", str(threads),
        "--chat_format", "chatml",
        # No RAM prompt cache: it grew without bound here (13 GB). llama.cpp still reuses the
        # evaluated prefix shared with the previous prompt, which is what consecutive section
        # calls (same system prompt) need.
        "--verbose", "false",
        *(lookup if lookup_tokens > 0 else []),
    ]


def ensure_running(port: int | None = None, settings: Settings | None = None) -> ServerHandle:
    settings = settings or get_settings()
    port = _port(settings, port)
    base_url = f"http://127.0.0.1:{port}/v1"
    pid_file, log_file, lock_file = _paths(settings, port)
    with lock_file.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        served = _answers(port)
        if served is not None:
            if EMBEDDED_MODEL_ALIAS not in served:
                raise ModelServerError(f"端口 {port} 已被其他服务占用（提供的模型：{served}），请换一个端口（DRAFTING_MODEL_PORT）。")
            return ServerHandle(base_url, port, _read_pid(pid_file), reused=True)
        if _port_open(port):
            pid = _read_pid(pid_file)
            if pid is None:
                raise ModelServerError(f"端口 {port} 已被其他程序占用，请换一个端口（DRAFTING_MODEL_PORT）。")
            return ServerHandle(base_url, port, pid, reused=True)  # ours, busy generating
        model_path = ensure_model(settings, progress=True)
        with log_file.open("ab") as log:
            proc = subprocess.Popen(
                server_command(model_path, port, settings.model_threads, settings.model_lookup_tokens),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
            )
        pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = log_file.read_text(errors="replace")[-800:]
                raise ModelServerError(f"内置模型服务启动失败（退出码 {proc.returncode}）。日志末尾：\n{tail}")
            if _answers(port, timeout=1.0) is not None:
                if settings.model_warmup:  # under the lock: a second starter waits for a warm server
                    warm_up(base_url, settings.llm_timeout)
                return ServerHandle(base_url, port, proc.pid, reused=False)
            time.sleep(0.25)
        proc.terminate()
        raise ModelServerError(f"内置模型服务在 {READY_TIMEOUT_S:.0f} 秒内未就绪，详见日志 {log_file}。")


def stop(port: int | None = None, settings: Settings | None = None, timeout: float = 15.0) -> bool:
    """Stop the server this project started on the port. Returns False when none was running."""
    settings = settings or get_settings()
    port = _port(settings, port)
    pid_file, _, _ = _paths(settings, port)
    pid = _read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            break
        _reap(pid)
        time.sleep(0.1)
    else:
        os.killpg(pid, signal.SIGKILL)
        _reap(pid)
    pid_file.unlink(missing_ok=True)
    return True


def _reap(pid: int | None) -> None:
    """Collect the exit status when the server is our own child, so it does not linger as a zombie."""
    if pid is None:
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def status(port: int | None = None, settings: Settings | None = None) -> dict:
    settings = settings or get_settings()
    port = _port(settings, port)
    pid_file, log_file, _ = _paths(settings, port)
    served = _answers(port)
    return {
        "port": port,
        "running": served is not None,
        "models": served or [],
        "pid": _read_pid(pid_file),
        "model_path": str(settings.embedded_model_path),
        "log": str(log_file),
    }


def serve_forever(port: int | None = None) -> int:
    """Foreground `model serve`: start (or reuse) the server, block until interrupted, then stop."""
    handle = ensure_running(port)
    if handle.reused:
        sys.stdout.write(f"内置模型服务已在运行：{handle.base_url}（未重复启动）\n")
        return 0
    sys.stdout.write(f"内置模型服务已就绪：{handle.base_url}（Ctrl+C 停止）\n")
    sys.stdout.flush()
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stopping:
            _reap(handle.pid)
            if _read_pid(_paths(get_settings(), handle.port)[0]) is None:
                break
            time.sleep(0.5)
    finally:
        stop(handle.port)
        sys.stdout.write("内置模型服务已停止。\n")
    return 0
