"""Drafting behind the HTTP API: accept, wait for the model, write (the service's policy), store.

`accept` validates the request (`service.intake_json`, the same rules as the page and the CLI),
takes a place in the model queue and stores the request before any drafting starts, so an
accepted request's input survives a crash. `run` waits for a model slot and writes with the
service's deadline, retries and flagged fallback; the finished draft is written to the same
history as the page's, in one transaction.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drafting import service
from drafting.config import ApiSettings
from drafting.flow.events import Event, Queued
from drafting.model.gate import ModelGate, QueueTimeout, Ticket
from drafting.store import DONE, FAILED, RUNNING, Draft, Store

log = logging.getLogger("drafting.api.app")

QUEUE_TIMEOUT = "排队等待模型的时间过长，本次未生成；要点已保存，请稍后重新提交。"
_RESULT_KEYS = ("raw_text", "sections", "examples", "timings", "model", "strategy", "opening", "closing")


@dataclass
class Accepted:
    """A stored request with its place in the model queue."""

    id: int
    work: service.Intake
    ticket: Ticket


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
        self.policy = service.Policy(settings.draft_timeout, settings.retries, settings.retry_backoff)

    def accept(self, payload: dict[str, Any], request_id: str, queue_token: int | None = None,
               user_id: int | None = None) -> Accepted:
        """Validate and store as `user_id`'s; raises `RequestError` (422) or `QueueFull` (429,
        nothing stored, a turn reserved for the token it carries)."""
        work = service.intake_json(payload, service.owner_key(user_id))
        ticket = self.gate.enqueue(queue_token, holder=service.owner_key(user_id))
        try:
            draft_id = service.accept(self.store, work, user_id, request_id)
        except BaseException:
            self.gate.cancel(ticket)
            raise
        return Accepted(draft_id, work, ticket)

    def run(self, accepted: Accepted, on_event: Callable[[Event], None] | None = None) -> dict[str, Any]:
        """Wait for the model, draft, store; returns the `DraftOut` object. `QueueTimeout` → 503."""
        emit = on_event or (lambda _event: None)
        try:
            slot = self.gate.acquire(accepted.ticket, on_position=lambda ahead: emit(Queued(ahead)))
        except QueueTimeout:
            self.store.set_status(accepted.id, FAILED, QUEUE_TIMEOUT)
            raise
        try:
            with slot:
                self.store.set_status(accepted.id, RUNNING)
                outcome = service.write(accepted.work, on_event=emit, policy=self.policy)
            service.finish(self.store, accepted.id, outcome.to_dict(accepted.work.ignored))
        except BaseException:
            log.exception("draft %d failed", accepted.id)
            self.store.set_status(accepted.id, FAILED, "生成时出现内部错误，要点已保存，请稍后重新提交。")
            raise
        row = self.store.get_draft(accepted.id)
        assert row is not None
        return draft_out(row)
