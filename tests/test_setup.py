import hashlib
import socket
from pathlib import Path

import pytest

from drafting.model import assets, tokens


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a non-loopback connection fails the test."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"network access attempted: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def test_tiktoken_works_offline_after_seeding(data_dir, no_network, monkeypatch):
    cache = tokens.ensure_tiktoken_cache()
    assert sorted(p.name for p in cache.iterdir()) == sorted(tokens.TIKTOKEN_FILES.values())
    import tiktoken
    import tiktoken.registry

    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # force a fresh load from the cache
    for name in ("cl100k_base", "o200k_base"):
        assert len(tiktoken.get_encoding(name).encode("街道总工会新建工会8家")) > 3
    again = tokens.ensure_tiktoken_cache()  # idempotent
    assert again == cache


def _fake_parts(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    paths = []
    for i, chunk in enumerate(chunks):
        p = tmp_path / f"part{i}"
        p.write_bytes(chunk)
        paths.append(p)
    return paths


def test_model_assembly_verifies_hash_and_is_idempotent(data_dir, tmp_path, monkeypatch):
    chunks = [b"GGUF", b"-weights-", b"tail"]
    blob = b"".join(chunks)
    monkeypatch.setattr(assets, "model_part_paths", lambda: _fake_parts(tmp_path, chunks))
    monkeypatch.setattr(assets, "EMBEDDED_MODEL_SHA256", hashlib.sha256(blob).hexdigest())
    monkeypatch.setattr(assets, "EMBEDDED_MODEL_SIZE", len(blob))
    path = assets.ensure_model()
    assert path.read_bytes() == blob
    assert assets.model_is_ready()
    monkeypatch.setattr(assets, "model_part_paths", lambda: pytest.fail("re-assembled on a second run"))
    assert assets.ensure_model() == path


def test_model_assembly_rejects_corrupt_parts(data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(assets, "model_part_paths", lambda: _fake_parts(tmp_path, [b"broken"]))
    monkeypatch.setattr(assets, "EMBEDDED_MODEL_SIZE", 6)
    with pytest.raises(assets.SetupError, match="校验失败"):
        assets.ensure_model()
    assert not assets.model_is_ready()
    assert not list((data_dir / "models").glob("*.gguf"))
