"""The model server manager without a model: busy servers are reused, foreign ports refused."""
from __future__ import annotations

import os
import socket

import pytest

from drafting import config
from drafting.model import server as model_server


@pytest.fixture
def silent_port():
    """A port that accepts connections but never answers HTTP (like llama.cpp busy generating)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def test_busy_server_of_ours_is_reused_not_started_twice(data_dir, silent_port, monkeypatch):
    settings = config.get_settings()
    pid_file = settings.run_dir / f"model-{silent_port}.pid"
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(str(os.getpid()))
    monkeypatch.setattr(model_server, "ensure_model", lambda *a, **k: pytest.fail("tried to start a second server"))
    handle = model_server.ensure_running(port=silent_port, settings=settings)
    assert handle.reused and handle.pid == os.getpid()


def test_a_port_held_by_another_program_is_refused(data_dir, silent_port):
    with pytest.raises(model_server.ModelServerError, match="已被其他程序占用"):
        model_server.ensure_running(port=silent_port, settings=config.get_settings())


def test_prompt_lookup_decoding_is_on_by_default_and_can_be_turned_off(data_dir, monkeypatch):
    from pathlib import Path

    from drafting import config
    from drafting.model.server import server_command

    command = server_command(Path("m.gguf"), 8765, 2, config.get_settings().model_lookup_tokens)
    assert command[command.index("--draft_model") + 1] == "prompt-lookup-decoding"
    assert command[command.index("--draft_model_num_pred_tokens") + 1] == str(config.MODEL_LOOKUP_TOKENS)
    monkeypatch.setenv("DRAFTING_MODEL_LOOKUP", "0")
    config.reset_settings()
    assert "--draft_model" not in server_command(Path("m.gguf"), 8765, 2, config.get_settings().model_lookup_tokens)
