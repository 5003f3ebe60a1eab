from pathlib import Path

from drafting import config


def test_unset_means_embedded(data_dir: Path):
    s = config.get_settings()
    assert s.uses_embedded_model and s.chroma_host is None
    assert s.data_dir == data_dir.resolve()
    assert s.llm_context_window == config.EMBEDDED_CONTEXT_WINDOW
    assert "内置模型" in s.endpoint_label


def test_openai_variables_are_honoured(monkeypatch, data_dir):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.deepseek.example/v1/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("DRAFTING_LLM_MODEL", "deepseek-chat")
    config.reset_settings()
    s = config.get_settings()
    assert not s.uses_embedded_model
    assert s.llm_base_url == "https://api.deepseek.example/v1"
    assert s.llm_api_key == "sk-test" and s.llm_model == "deepseek-chat"


def test_drafting_variables_win_and_dotenv_is_read(monkeypatch, tmp_path, data_dir):
    env = tmp_path / "x.env"
    env.write_text("DRAFTING_LLM_BASE_URL=http://127.0.0.1:9/v1\nDRAFTING_CHROMA_HOST=127.0.0.2\n")
    monkeypatch.setenv("DRAFTING_ENV_FILE", str(env))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://other/v1")
    config.reset_settings()
    s = config.get_settings()
    assert s.llm_base_url == "http://127.0.0.1:9/v1"
    assert s.chroma_host == "127.0.0.2" and s.chroma_port == 8000
    import os

    assert "DRAFTING_CHROMA_HOST" not in os.environ  # reading .env never changes the environment


def test_bad_number_in_environment_is_a_clear_error(monkeypatch, data_dir):
    monkeypatch.setenv("DRAFTING_MODEL_PORT", "abc")
    config.reset_settings()
    try:
        config.get_settings()
    except ValueError as exc:
        assert "DRAFTING_MODEL_PORT" in str(exc)
    else:
        raise AssertionError("expected a ValueError")
