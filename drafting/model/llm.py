"""One OpenAI-compatible client for the embedded model and for any remote endpoint.

The embedded llama.cpp server gets a raw ChatML completion, so that the assistant turn can be
prefilled (`今年以来，`) and held to one paragraph (a logit bias, or a GBNF grammar when a
minimum length is needed; see `drafting.model.paragraph`) — the two things that keep a 1.5B model
to plain Chinese prose. Remote endpoints (OpenAI, DeepSeek, Qwen, vLLM, Ollama) get the
standard chat API. Both stream text deltas.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import openai

from drafting.config import EMBEDDED_MODEL_ALIAS
from drafting.model import paragraph
from drafting.prompts import fill

log = logging.getLogger(__name__)
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("llm_deadline", default=None)


class LLMError(RuntimeError):
    """The model endpoint failed. The message is Chinese and says what the user can do."""


class DeadlineReached(LLMError):
    """A call was ended because the caller's deadline (`deadline`) came."""


@contextlib.contextmanager
def deadline(at: float) -> Iterator[None]:
    """Every call made inside ends by `at` (time.monotonic()): each read of the stream waits at
    most until then, and the client does not retry on its own, so a hung or silent endpoint
    cannot hold a draft past its deadline (it held one 184 s past a 20 s deadline before)."""
    token = _deadline.set(at)
    try:
        yield
    finally:
        _deadline.reset(token)


@dataclass
class Generation:
    """The text of one call and what it cost."""

    text: str = ""
    completion_tokens: int = 0
    seconds: float = 0.0
    first_token_seconds: float | None = None
    finish_reason: str | None = None
    prefill: str = ""  # the part of `text` that was given, not generated

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Prompt:
    """A chat prompt: system + user messages, an optional assistant prefill and decoding limits."""

    system: str
    user: str
    prefill: str = ""
    max_tokens: int = 512
    temperature: float = 0.3
    stop: list[str] = field(default_factory=list)
    paragraph: bool = False  # one paragraph of plain prose (enforced on the embedded model)
    min_chars: int = 0  # with `paragraph`: the embedded model may not stop before this many characters


def _chatml_head(system: str) -> str:
    """The start every ChatML prompt with this system message shares, up to the user's words."""
    return f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n"


def _chatml(prompt: Prompt) -> str:
    return f"{_chatml_head(prompt.system)}{prompt.user}<|im_end|>\n<|im_start|>assistant\n{prompt.prefill}"


def _translate(exc: Exception, label: str) -> LLMError:
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(f"模型响应超时（{label}）。模型可能正忙，请稍后重试，或缩短要点后再生成。")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"连接不上模型服务（{label}）。请确认模型服务已启动、地址正确。")
    if isinstance(exc, openai.AuthenticationError):
        return LLMError(f"模型服务拒绝了密钥（{label}）。请检查 DRAFTING_LLM_API_KEY。")
    if isinstance(exc, openai.RateLimitError):
        return LLMError(f"模型服务限流（{label}）。请稍后重试。")
    if isinstance(exc, openai.NotFoundError):
        return LLMError(f"模型服务找不到所配置的模型（{label}）。请检查 DRAFTING_LLM_MODEL。")
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"模型服务返回错误 {exc.status_code}（{label}）。请稍后重试。")
    return LLMError(f"调用模型服务失败（{label}）：{exc}")


RETRY_BACKOFF = 0.5  # seconds before the first retry of a call, doubled each time


class _Retry(Exception):
    """A call that failed before its first piece in a way worth trying again."""

    def __init__(self, error: openai.OpenAIError) -> None:
        super().__init__(str(error))
        self.error = error


def _retryable(exc: openai.OpenAIError) -> bool:
    if isinstance(exc, openai.APITimeoutError):
        return False
    return isinstance(exc, (openai.APIConnectionError, openai.InternalServerError, openai.RateLimitError))


class LLMClient:
    """Streams completions from an OpenAI-compatible endpoint."""

    def __init__(self, base_url: str, model: str, api_key: str | None, *, embedded: bool,
                 timeout: float = 180.0, max_retries: int = 2, context_window: int = 4096,
                 paragraph_bias: dict[str, float] | None = None) -> None:
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.embedded = embedded
        self.context_window = context_window
        self.paragraph_bias = paragraph_bias  # bans the embedded vocabulary's non-paragraph tokens
        # Shown to users and returned by the API, so never the endpoint's address (logged instead).
        self.label = "内置模型" if embedded else (model or "外部模型服务")
        self.max_retries = max_retries
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0)

    def stream(self, prompt: Prompt, on_delta: Callable[[str], None] | None = None) -> Generation:
        """Run one prompt, calling `on_delta` with each text piece; returns the whole generation.

        The prefill is part of the returned text (it is the start of the answer). Remote chat
        endpoints cannot be prefilled; they are asked to start with it instead. A refused
        connection, a 5xx or a rate limit before the first piece is tried again (`max_retries`
        times, backing off, never past a deadline); a timeout is not: a silent endpoint would
        otherwise hold the caller for three timeouts.
        """
        at = _deadline.get()
        for attempt in range(self.max_retries + 1):
            try:
                return self._stream_once(prompt, on_delta, at)
            except _Retry as retry:
                delay = RETRY_BACKOFF * 2 ** attempt
                late = at is not None and time.monotonic() + delay >= at
                if attempt == self.max_retries or late:
                    raise _translate(retry.error, self.label) from retry.error
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _stream_once(self, prompt: Prompt, on_delta: Callable[[str], None] | None, at: float | None) -> Generation:
        started = time.monotonic()
        prefill = prompt.prefill if self.embedded else ""
        gen = Generation(text=prefill, prefill=prefill)
        pieces = self._pieces(prompt, at)
        try:
            for piece, finish in pieces:
                if at is not None and time.monotonic() > at:
                    raise DeadlineReached("模型生成超过了本稿的时限。")
                if piece:
                    if gen.first_token_seconds is None:
                        gen.first_token_seconds = time.monotonic() - started
                        if prefill and on_delta:
                            on_delta(prefill)
                    gen.text += piece
                    gen.completion_tokens += 1
                    if on_delta:
                        on_delta(piece)
                if finish:
                    gen.finish_reason = finish
        except openai.OpenAIError as exc:
            log.warning("model call to %s failed: %s: %s", self.base_url, type(exc).__name__, exc)
            if at is not None and time.monotonic() >= at - 0.5 and isinstance(exc, openai.APITimeoutError):
                raise DeadlineReached("模型生成超过了本稿的时限。") from exc
            if gen.first_token_seconds is not None and isinstance(exc, openai.APIConnectionError):
                raise LLMError(f"模型服务在生成途中断开了连接（{self.label}）。请稍后重试。") from exc
            if gen.first_token_seconds is None and _retryable(exc):
                raise _Retry(exc) from exc
            raise _translate(exc, self.label) from exc
        finally:
            pieces.close()  # a callback that raised (a cancel) also hangs up, so the server stops generating
        if prefill and on_delta and gen.first_token_seconds is None:
            on_delta(prefill)
        gen.seconds = time.monotonic() - started
        return gen

    def _paragraph_constraint(self, prompt: Prompt) -> dict[str, Any]:
        """The fast logit bias when it is known and no minimum length is asked; else the grammar."""
        if not prompt.paragraph:
            return {}
        if self.paragraph_bias and not prompt.min_chars:
            return {"logit_bias": self.paragraph_bias}
        return {"grammar": paragraph.grammar(prompt.min_chars)}

    def _pieces(self, prompt: Prompt, at: float | None) -> Generator[tuple[str, str | None], None, None]:
        client = self._client
        if at is not None:
            remaining = max(0.1, min(self.timeout, at - time.monotonic()))
            client = client.with_options(timeout=remaining)
        if self.embedded:
            extra = self._paragraph_constraint(prompt)
            stream = client.completions.create(
                model=self.model, prompt=_chatml(prompt), max_tokens=prompt.max_tokens,
                temperature=prompt.temperature, stop=["<|im_end|>", *prompt.stop], stream=True,
                extra_body=extra or None,
            )
            with stream:
                for chunk in stream:
                    if chunk.choices:
                        yield chunk.choices[0].text or "", chunk.choices[0].finish_reason
            return
        user = prompt.user + (f"\n\n请以“{prompt.prefill}”开头。" if prompt.prefill else "")
        chat = client.chat.completions.create(
            model=self.model, messages=[{"role": "system", "content": prompt.system}, {"role": "user", "content": user}],
            max_tokens=prompt.max_tokens, temperature=prompt.temperature, stop=prompt.stop or None, stream=True,
        )
        with chat:
            for part in chat:
                if part.choices:
                    yield part.choices[0].delta.content or "", part.choices[0].finish_reason


def warm_up(base_url: str, timeout: float) -> None:
    """Have a freshly started embedded server evaluate the head of the section prompt, which
    every section and repair call shares (`prompts/section.txt`), and read its weights (mapped,
    not yet paged in): the first call of the first draft then pays neither (11.4 s to its first
    token, against 2–3.5 s for later drafts' first sections, in session 8's held-out eval).
    Best effort: a failure is logged, and the call that needs the model reports its own error."""
    client = openai.OpenAI(base_url=base_url, api_key="not-needed", timeout=timeout, max_retries=0)
    try:
        client.completions.create(model=EMBEDDED_MODEL_ALIAS, prompt=_chatml_head(fill("section", "system")),
                                  max_tokens=1, temperature=0.0)
    except openai.OpenAIError as exc:
        log.warning("warming the model server at %s failed: %s", base_url, exc)
