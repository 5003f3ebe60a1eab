"""Drafting behind the HTTP API: accept, wait for the model, write (or fall back), store.

`accept` validates the request (the same rules as the page and the CLI), leaves out
instruction-like bullets, takes a place in the model queue and stores the request before any
drafting starts, so an accepted request's input survives a crash. `run` waits for a model slot,
drafts with a deadline and a bounded number of retries after transient model errors, and falls
back to a plain statement of the bullets when the model cannot be used; the finished draft is
written to the same history as the page's, in one transaction.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import openai

from drafting.api.queue import ModelGate, QueueTimeout, Ticket
from drafting.config import ApiSettings
from drafting.flow.assemble import section_heading
from drafting.flow.screen import ignored_note, screen_request
from drafting.model.llm import LLMError, get_client
from drafting.flow.pipeline import Cancelled, DraftResult, draft, plain_draft
from drafting.flow.plan import title_for
from drafting.flow.request import DraftRequest, SectionInput, request_from_json
from drafting.store import DONE, FAILED, RUNNING, Draft, Store

log = logging.getLogger("drafting.api.app")

Event = dict[str, Any]
MODEL_ERRORS = (LLMError, openai.OpenAIError, httpx.HTTPError)
QUEUE_TIMEOUT = "排队等待模型的时间过长，本次未生成；要点已保存，请稍后重新提交。"
FALLBACK = "本稿由要点原话直接整理，未经模型润色，所有数字均来自要点；模型恢复后可重新生成。"
_RESULT_KEYS = ("raw_text", "sections", "examples", "timings", "model", "strategy", "opening", "closing")


@dataclass
class Accepted:
    """A stored request with its place in the model queue."""

    id: int
    request: DraftRequest  # what will be drafted (instruction-like bullets left out)
    ignored: list[str]
    ticket: Ticket


def facts_text(sections: list[SectionInput]) -> str:
    """The request's bullets in the FACTS.txt form the page stores and shows."""
    lines: list[str] = []
    for section in sections:
        if section.title:
            lines.append(f"# {section.title}")
        lines += section.facts
    return "\n".join(lines)


def _transient(exc: BaseException) -> bool:
    """Worth another try: a refused or dropped connection, a 5xx, a rate limit; not a timeout."""
    cause = exc.__cause__ if isinstance(exc, LLMError) and exc.__cause__ else exc
    if isinstance(cause, (openai.APITimeoutError, httpx.TimeoutException)):
        return False
    return isinstance(cause, (openai.APIConnectionError, openai.InternalServerError, openai.RateLimitError,
                              httpx.TransportError))


def _model_unavailable_note(exc: BaseException) -> str:
    reason = str(exc) if isinstance(exc, LLMError) else "模型服务连接中断。"
    return f"模型暂时无法使用：{reason}{FALLBACK}"


def _section_notes(result: DraftResult) -> list[str]:
    return [f"“{section_heading(i, s.heading)}”中模型所写内容未通过数字核对，已改用要点原话表述。"
            for i, s in enumerate(result.sections) if any(r.get("how") == "fallback" for r in s.repairs)]


def draft_out(row: Draft) -> dict[str, Any]:
    """A stored row as the API's draft object (`DraftOut`)."""
    result = row.result
    out: dict[str, Any] = {
        "id": row.id, "status": row.status, "created_at": row.created_at, "error": row.error,
        "fallback": bool(result.get("fallback", False)), "notes": list(result.get("notes", [])),
        "ignored_facts": list(result.get("ignored_facts", [])), "request": row.request, "title": row.title,
        "text": "", "raw_text": "", "sections": [], "check": None, "examples": [], "timings": {}, "model": "",
        "strategy": "", "opening": "", "closing": "",
    }
    if row.status == DONE:
        out.update(text=row.text, check=row.check, **{k: result[k] for k in _RESULT_KEYS if k in result})
    return out


class DraftService:
    def __init__(self, store: Store, gate: ModelGate, settings: ApiSettings) -> None:
        self.store, self.gate, self.settings = store, gate, settings

    def accept(self, payload: dict[str, Any], request_id: str) -> Accepted:
        """Validate and store; raises `RequestError` (422) or `QueueFull` (429, nothing stored)."""
        request = request_from_json(payload)
        work, ignored = screen_request(request)
        ticket = self.gate.enqueue()
        try:
            draft_id = self.store.accept_draft(title=title_for(request), request=request.to_dict(),
                                               facts_text=facts_text(request.sections), request_id=request_id)
        except BaseException:
            self.gate.cancel(ticket)
            raise
        return Accepted(draft_id, work, ignored, ticket)

    def run(self, accepted: Accepted, on_event: Callable[[Event], None] | None = None) -> dict[str, Any]:
        """Wait for the model, draft, store; returns the `DraftOut` object. `QueueTimeout` → 503."""
        emit = on_event or (lambda _event: None)
        try:
            slot = self.gate.acquire(accepted.ticket, on_position=lambda ahead: emit({"type": "queued", "ahead": ahead}))
        except QueueTimeout:
            self.store.set_status(accepted.id, FAILED, QUEUE_TIMEOUT)
            raise
        try:
            with slot:
                self.store.set_status(accepted.id, RUNNING)
                result, notes = self._write(accepted.request, emit)
            fallback = bool(notes)
            notes += _section_notes(result) if not fallback else []
            notes += result.notes
            if accepted.ignored:
                notes.append(ignored_note(accepted.ignored))
            data = {**result.to_dict(), "fallback": fallback, "notes": notes, "ignored_facts": accepted.ignored}
            self.store.finish_draft(accepted.id, text=result.text, title=result.title, check=result.check, result=data)
        except BaseException:
            log.exception("draft %d failed", accepted.id)
            self.store.set_status(accepted.id, FAILED, "生成时出现内部错误，要点已保存，请稍后重新提交。")
            raise
        row = self.store.get_draft(accepted.id)
        assert row is not None
        return draft_out(row)

    def _write(self, request: DraftRequest, emit: Callable[[Event], None]) -> tuple[DraftResult, list[str]]:
        """The model's draft and no notes, or the plain fallback and the reason for it.

        The deadline is checked at every pipeline event (each section start and text piece), so
        a slow model is stopped even mid-section; a hung one is ended by the client's timeout.
        """
        deadline = time.monotonic() + self.settings.draft_timeout

        def on_event(event: Event) -> None:
            if time.monotonic() > deadline:
                raise Cancelled("deadline")
            emit(event)

        timeout_note = f"模型生成超时（超过 {self.settings.draft_timeout:g} 秒）。{FALLBACK}"
        attempt = 0
        while True:
            try:
                return draft(request, on_event=on_event, client=get_client()), []
            except Cancelled:
                return plain_draft(request), [timeout_note]
            except MODEL_ERRORS as exc:
                if attempt >= self.settings.retries or not _transient(exc):
                    log.warning("model unavailable, plain fallback: %s: %s", type(exc).__name__, exc)
                    return plain_draft(request), [_model_unavailable_note(exc)]
                delay = self.settings.retry_backoff * 2 ** attempt
                attempt += 1
                if time.monotonic() + delay > deadline:
                    return plain_draft(request), [timeout_note]
                log.warning("transient model error, retry %d in %.1fs: %s: %s",
                            attempt, delay, type(exc).__name__, exc)
                emit({"type": "retry", "attempt": attempt, "delay": delay})
                time.sleep(delay)
