"""The accepted-draft path the API and the page share (`service.accept` → `service.run`): a place
in the model queue and a stored row before anything is written; the row filled, or marked
failed with the reason every face shows; a cancel left to the caller; a withdrawn draft's place
and row given up."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from drafting import service
from drafting.config import get_settings
from drafting.flow.pipeline import Cancelled
from drafting.model.gate import ModelGate, QueueFull
from drafting.store import DONE, FAILED, RUNNING, get_store


def _work() -> service.Intake:
    return service.intake_text("东湖街道总工会", "上半年", 2024, "新建非公企业工会8家", {"examples": 0})


def _gate(queue_size: int = 1) -> ModelGate:
    return ModelGate(get_settings().database_url, slots=1, queue_size=queue_size, wait_s=5)


def _result(text: str) -> dict[str, Any]:
    return {"text": text, "title": "东湖街道总工会2024年上半年工作总结", "check": {"ok": True}}


def test_a_draft_is_stored_before_it_is_written_and_filled_after(data_dir: Path) -> None:
    store, gate = get_store(), _gate()
    accepted = service.accept(store, _work(), gate=gate)
    row = store.get_draft(accepted.id)
    assert row is not None and row.request["sections"][0]["facts"] == ["新建非公企业工会8家"] and row.status != DONE
    statuses: list[str] = []

    def produce(emit: Any) -> dict[str, Any]:
        statuses.append(store.get_draft(accepted.id).status)  # type: ignore[union-attr]
        return _result("上半年，新建非公企业工会8家。")

    service.run(store, replace(accepted, produce=produce))
    done = store.get_draft(accepted.id)
    assert statuses == [RUNNING] and done is not None and done.status == DONE and done.text == "上半年，新建非公企业工会8家。"
    assert gate.stats()["active"] == 0  # the slot is given back


def test_a_full_queue_stores_nothing(data_dir: Path) -> None:
    store, gate = get_store(), _gate(queue_size=1)
    held = gate.acquire(gate.enqueue())  # someone is writing
    service.accept(store, _work(), gate=gate)  # waits
    with pytest.raises(QueueFull):
        service.accept(store, _work(), gate=gate)
    assert len(store.recent_ids(10)) == 1
    held.release()


def test_a_failure_marks_the_row_with_the_reason_and_is_raised(data_dir: Path) -> None:
    store, gate = get_store(), _gate()
    accepted = service.accept(store, _work(), gate=gate)

    def broken(emit: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        service.run(store, replace(accepted, produce=broken))
    row = store.get_draft(accepted.id)
    assert row is not None and row.status == FAILED and row.error == service.failure_message(RuntimeError("boom"))
    assert "要点已保存" in row.error and "boom" not in row.error  # no internals shown to the user
    assert gate.stats()["active"] == 0


def test_a_cancel_is_raised_and_the_row_left_to_the_caller(data_dir: Path) -> None:
    import threading

    store, gate = get_store(), _gate()
    accepted = service.accept(store, _work(), gate=gate)
    cancel = threading.Event()

    def cancelled_late(emit: Any) -> dict[str, Any]:
        cancel.set()  # after the last event, before the row is filled
        return _result("上半年，新建非公企业工会8家。")

    with pytest.raises(Cancelled):
        service.run(store, replace(accepted, produce=cancelled_late), cancel=cancel)
    row = store.get_draft(accepted.id)
    assert row is not None and row.status == RUNNING and not row.text


def test_a_withdrawn_draft_gives_up_its_place_and_its_row(data_dir: Path) -> None:
    store, gate = get_store(), _gate(queue_size=1)
    held = gate.acquire(gate.enqueue())
    waiting = service.accept(store, _work(), gate=gate)
    with pytest.raises(QueueFull):
        service.accept(store, _work(), gate=gate)
    service.withdraw(store, waiting)
    assert store.get_draft(waiting.id) is None
    assert service.accept(store, _work(), gate=gate).id != waiting.id  # the place is free again
    held.release()
