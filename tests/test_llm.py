import pytest

from drafting.model.llm import LLMClient, LLMError, Prompt
from tests.conftest import free_port
from tests.fake_llm import FakeLLM


def _client(base_url: str, embedded: bool, timeout: float = 5.0) -> LLMClient:
    return LLMClient(base_url, "fake-model", None, embedded=embedded, timeout=timeout, max_retries=0)


def test_embedded_path_prefills_and_streams_with_grammar():
    pieces: list[str] = []
    with FakeLLM(reply="新建工会8家。") as fake:
        gen = _client(fake.base_url, embedded=True).stream(
            Prompt(system="系统", user="要点", prefill="今年以来，", paragraph=True), on_delta=pieces.append)
    assert gen.text == "今年以来，新建工会8家。"
    assert "".join(pieces) == gen.text
    body = fake.requests[0]
    assert body["prompt"].endswith("<|im_start|>assistant\n今年以来，")
    assert body["grammar"] == "root ::= [^\\n#*>|`_]+" and "logit_bias" not in body  # no ban list known
    assert "<|im_end|>" in body["stop"]
    assert gen.completion_tokens >= 2 and gen.first_token_seconds is not None


def test_embedded_paragraph_uses_the_ban_list_unless_a_minimum_length_is_asked():
    bias = {"198": -100.0, "2": -100.0}
    with FakeLLM(reply="新建工会8家。") as fake:
        client = LLMClient(fake.base_url, "fake-model", None, embedded=True, timeout=5, max_retries=0,
                           paragraph_bias=bias)
        client.stream(Prompt(system="s", user="u", paragraph=True))
        client.stream(Prompt(system="s", user="u", paragraph=True, min_chars=120))
        client.stream(Prompt(system="s", user="u"))
    fast, minimum, free = fake.requests
    assert fast["logit_bias"] == bias and "grammar" not in fast
    assert minimum["grammar"].endswith("{120,}") and "logit_bias" not in minimum
    assert "grammar" not in free and "logit_bias" not in free


def test_remote_path_uses_chat_and_asks_for_the_opening():
    with FakeLLM(reply="今年以来，工作顺利。") as fake:
        gen = _client(fake.base_url, embedded=False).stream(Prompt(system="系统", user="要点", prefill="今年以来，"))
    assert gen.text == "今年以来，工作顺利。"
    body = fake.requests[0]
    assert body["messages"][0]["role"] == "system"
    assert "今年以来" in body["messages"][1]["content"]


@pytest.mark.parametrize("mode,message", [("error500", "返回错误 500"), ("drop", "连接不上"), ("hang", "超时")])
def test_faults_become_chinese_errors(mode, message):
    with FakeLLM(mode=mode) as fake, pytest.raises(LLMError, match=message):
        _client(fake.base_url, embedded=True, timeout=1.0).stream(Prompt(system="s", user="u"))


def test_endpoint_down():
    with pytest.raises(LLMError, match="连接不上"):
        _client(f"http://127.0.0.1:{free_port()}/v1", embedded=False).stream(Prompt(system="s", user="u"))


def test_warm_up_evaluates_the_section_prompts_head_once():
    """A fresh embedded server is asked for one token after the head every section call shares."""
    from drafting.flow.plan import OutlineSection
    from drafting.flow.write import WriteContext, section_prompt
    from drafting.model.llm import _chatml, warm_up

    with FakeLLM(reply="好") as fake:
        warm_up(fake.base_url, timeout=5)
    (body,) = fake.requests
    assert body["max_tokens"] == 1 and not body.get("stream")
    section = section_prompt(OutlineSection("组织建设", ["新建工会8家"]), WriteContext("某工会", "上半年", "上半年"), 80)
    assert _chatml(section).startswith(body["prompt"]) and body["prompt"].endswith("<|im_start|>user\n")


def test_a_failed_warm_up_is_logged_not_raised(caplog):
    from drafting.model.llm import warm_up

    with FakeLLM(mode="error500") as fake:
        warm_up(fake.base_url, timeout=5)
    assert "warming the model server" in caplog.text
