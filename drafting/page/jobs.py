"""Drafting runs in a background thread, so the page stays responsive, shows sections as they are
written, can cancel, and survives a page refresh (the job lives in this process, not in the
browser session). A finished run is saved to the history by the job itself.

One job at a time per process: the embedded model serves one request at a time anyway.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from drafting.model.llm import LLMError
from drafting.flow.pipeline import Cancelled, DraftResult
from drafting.flow.request import DraftRequest, RequestError
from drafting.store import Draft, Store

log = logging.getLogger(__name__)

Event = dict[str, Any]
Work = Callable[[Callable[[Event], None]], DraftResult]

RUNNING, DONE, CANCELLED, FAILED = "running", "done", "cancelled", "failed"
_KEEP_FINISHED_S = 3600.0


@dataclass(frozen=True)
class SectionProgress:
    index: int
    title: str
    text: str = ""
    done: bool = False
    seconds: float | None = None
    note: str = ""  # what the checker and repair did, in Chinese


@dataclass(frozen=True)
class JobView:
    """A consistent snapshot of a job for rendering."""

    id: str
    kind: str
    status: str
    elapsed: float
    total: int
    sections: tuple[SectionProgress, ...]
    idle: float  # seconds since the model last produced text (or since the start)
    message: str = ""
    draft_id: int | None = None
    first_text_s: float | None = None
    first_section_s: float | None = None

    @property
    def current(self) -> SectionProgress | None:
        return next((s for s in reversed(self.sections) if not s.done), None)

    @property
    def finished(self) -> bool:
        return self.status != RUNNING


@dataclass
class Job:
    kind: str  # "draft" or "regenerate"
    work: Work
    save: Callable[[DraftResult], int]
    titles: list[str] = field(default_factory=list)  # section headings, for events that carry none
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    status: str = RUNNING
    message: str = ""
    total: int = 0
    sections: list[SectionProgress] = field(default_factory=list)
    last_activity: float = field(default_factory=time.monotonic)
    ended: float | None = None
    draft_id: int | None = None
    first_text_s: float | None = None
    first_section_s: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> Job:
        self._thread = threading.Thread(target=self._run, name=f"draft-{self.id[:8]}", daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self.cancel_event.set()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status != RUNNING

    def view(self) -> JobView:
        with self._lock:
            now = self.ended or time.monotonic()
            return JobView(id=self.id, kind=self.kind, status=self.status, elapsed=now - self.started,
                           total=self.total, sections=tuple(self.sections), idle=now - self.last_activity,
                           message=self.message, draft_id=self.draft_id, first_text_s=self.first_text_s,
                           first_section_s=self.first_section_s)

    def on_event(self, event: Event) -> None:
        """Record a pipeline event; a pending cancel stops the run here, even mid-section."""
        if self.cancel_event.is_set():
            raise Cancelled("已取消生成。")
        kind, index = event.get("type"), event.get("index")
        now = time.monotonic()
        with self._lock:
            self.last_activity = now
            if kind == "section_started":
                self.total = int(event.get("total") or self.total)
                self.sections = [s for s in self.sections if s.index != index]
                self.sections.append(SectionProgress(index, str(event.get("title", ""))))
            elif kind == "delta" and event.get("text"):
                self._update(index, lambda s: replace(s, text=s.text + event["text"]))
                if self.first_text_s is None:
                    self.first_text_s = now - self.started
            elif kind == "section_checked" and not event.get("ok", True):
                n = len(event.get("problems", [])) + len(event.get("missing", []))
                self._update(index, lambda s: replace(s, note=f"核对发现 {n} 处问题，正在修正…"))
            elif kind == "section_repaired" and "text" in event:
                note = "已改用要点原话表述" if event.get("how") == "fallback" else "已按要点修正"
                self._update(index, lambda s: replace(s, text=event["text"], note=note))
            elif kind == "section_done" and "text" in event:
                seconds = event.get("seconds")
                self._update(index, lambda s: replace(s, text=event["text"], done=True, seconds=seconds,
                                                      note=s.note.replace("正在修正…", "已修正")))
                if self.first_section_s is None:
                    self.first_section_s = now - self.started

    def _update(self, index: Any, change: Callable[[SectionProgress], SectionProgress]) -> None:
        """Change section `index`; one that never announced its start (a whole-draft run) is added."""
        if isinstance(index, int) and all(s.index != index for s in self.sections):
            title = self.titles[index] if index < len(self.titles) else ""
            self.sections = sorted([*self.sections, SectionProgress(index, title)], key=lambda s: s.index)
        self.sections = [change(s) if s.index == index else s for s in self.sections]

    def _finish(self, status: str, message: str = "", draft_id: int | None = None) -> None:
        with self._lock:
            self.status, self.message, self.draft_id = status, message, draft_id
            self.ended = time.monotonic()

    def _run(self) -> None:
        try:
            result = self.work(self.on_event)
            if self.cancel_event.is_set():
                raise Cancelled("已取消生成。")
            self._finish(DONE, draft_id=self.save(result))
        except Cancelled:
            self._finish(CANCELLED, "已取消。已写好的内容没有保存，您的要点和提纲都还在。")
        except (LLMError, RequestError) as exc:
            self._finish(FAILED, str(exc))
        except Exception as exc:  # the page must show something rather than spin forever
            log.exception("drafting job failed")
            self._finish(FAILED, f"生成时出现内部错误：{type(exc).__name__}: {exc}")


_jobs: dict[str, Job] = {}
_jobs_lock = threading.Lock()


def _register(job: Job) -> Job:
    with _jobs_lock:
        now = time.monotonic()
        for key in [k for k, j in _jobs.items() if j.ended is not None and now - j.ended > _KEEP_FINISHED_S]:
            del _jobs[key]
        if any(j.status == RUNNING for j in _jobs.values()):
            raise RuntimeError("another drafting job is running")
        _jobs[job.id] = job
    return job.start()


def get_job(job_id: str | None) -> Job | None:
    with _jobs_lock:
        return _jobs.get(job_id) if job_id else None


def running_job() -> Job | None:
    with _jobs_lock:
        return next((j for j in _jobs.values() if j.status == RUNNING), None)


def save_result(store: Store, result: DraftResult, request: dict[str, Any], facts_text: str,
                kind: str = "generated", parent_id: int | None = None) -> int:
    """Keep a pipeline result as a version in the history."""
    data = result.to_dict()
    return store.save_draft(text=data["text"], title=data["title"], request=request, check=data["check"],
                            result=data, facts_text=facts_text, parent_id=parent_id, kind=kind)


def start_draft(store: Store, request: DraftRequest, outline: Any, facts_text: str) -> Job:
    """Write the whole draft from `outline` (a `plan.Outline`) and save it as a new version."""
    from drafting.flow.pipeline import draft

    def work(on_event: Callable[[Event], None]) -> DraftResult:
        return draft(request, on_event=on_event, outline=outline)

    def save(result: DraftResult) -> int:
        return save_result(store, result, request.to_dict(), facts_text)

    return _register(Job("draft", work, save, titles=[s.heading for s in outline.sections]))


def start_regenerate(store: Store, base: Draft, index: int) -> Job:
    """Rewrite section `index` of version `base` and save the result as its child version."""
    from drafting.flow.pipeline import regenerate_section
    from drafting.flow.request import request_from_json

    request = request_from_json(base.request)

    def work(on_event: Callable[[Event], None]) -> DraftResult:
        return regenerate_section(request, base.result, index, on_event=on_event)

    def save(result: DraftResult) -> int:
        return save_result(store, result, base.request, base.facts_text, kind="regenerated", parent_id=base.id)

    return _register(Job("regenerate", work, save, titles=[s["heading"] for s in base.result["sections"]]))
