"""Which model a draft talks to: the configured OpenAI-compatible endpoint, or the embedded
llama.cpp server, started on demand. Kept apart from `llm` (the client) and `server` (the
embedded process) so that neither needs the other's module: the server warms itself up with
the client, and only this factory knows both.
"""
from __future__ import annotations

from drafting.config import EMBEDDED_MODEL_ALIAS, Settings, get_settings
from drafting.model import paragraph
from drafting.model import server as model_server
from drafting.model.llm import LLMClient, LLMError


def get_client(settings: Settings | None = None) -> LLMClient:
    """The configured endpoint, or the embedded model (started on demand)."""
    settings = settings or get_settings()
    if settings.uses_embedded_model:
        try:
            handle = model_server.ensure_running(settings=settings)
        except model_server.ModelServerError as exc:
            raise LLMError(str(exc)) from exc
        return LLMClient(handle.base_url, EMBEDDED_MODEL_ALIAS, None, embedded=True,
                         timeout=settings.llm_timeout, context_window=settings.llm_context_window,
                         paragraph_bias=paragraph.logit_bias(settings.embedded_model_path))
    if not settings.llm_model:
        raise LLMError("已配置模型地址 DRAFTING_LLM_BASE_URL，但没有配置模型名称 DRAFTING_LLM_MODEL。")
    return LLMClient(settings.llm_base_url or "", settings.llm_model, settings.llm_api_key, embedded=False,
                     timeout=settings.llm_timeout, context_window=settings.llm_context_window)
