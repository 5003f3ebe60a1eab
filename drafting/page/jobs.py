"""Drafting runs in a background thread, so the page stays responsive, shows sections as they are
written, can cancel, and survives a page refresh (the job lives in this process, not in the
browser session). Like the API's, a draft takes its place in the model queue and its row is
stored before the model writes (`service.accept`), then it is written in turn and stored
(`service.run`): if the page server dies meanwhile, the input is kept as an "interrupted" row.
A failed run keeps its row with the reason; a cancelled one removes it (the bullets stay in the
autosave).

Jobs belong to a user (the signed-in account, or the one local user without accounts): one
running job per user, which only that user sees, follows and cancels. Jobs of different users
wait for the model in the queue every process shares.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from drafting import service
from drafting.flow.events import (
    Delta,
    Event,
    PartDone,
    Queued,
    SectionChecked,
    SectionDone,
    SectionRepaired,
    SectionStarted,
)
from drafting.flow.pipeline import Cancelled
from drafting.flow.plan import Outline
from drafting.service import Intake
from drafting.store import DONE, FAILED, RUNNING, Draft, Store

CANCELLED = "cancelled"  # a job's status beside the store's RUNNING, DONE and FAILED
_KEEP_FINISHED_S = 3600.0


@dataclass(frozen=True)
class SectionProgress:
    index: int
    title: str
    text: str = ""
    done: bool = False
    seconds: float | None = None
    note: str = ""  # what the checker and repair did, in Chinese
    checked: int = 0  # leading characters of `text` already checked and final (the finished parts)


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
    first_checked_s: float | None = None  # the first checked text shown: a finished part or section
    waiting_behind: int = 0  # drafts ahead in the shared model queue (0: not waiting)

    @property
    def current(self) -> SectionProgress | None:
        return next((s for s in reversed(self.sections) if not s.done), None)

    @property
    def finished(self) -> bool:
        return self.status != RUNNING


@dataclass
class Job:
    kind: str  # "draft" or "regenerate"
    accepted: service.Accepted  # its row and place in the model queue
    store: Store
    user_id: int | None  # whose job it is (None: the one local user)
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
    first_text_s: float | None = None
    first_section_s: float | None = None
    first_checked_s: float | None = None
    waiting_behind: int = 0
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
                           message=self.message, draft_id=self.accepted.id if self.status == DONE else None, first_text_s=self.first_text_s,
                           first_section_s=self.first_section_s, first_checked_s=self.first_checked_s,
                           waiting_behind=self.waiting_behind)

    def on_event(self, event: Event) -> None:
        """Record a pipeline event; a pending cancel stops the run here, even mid-section."""
        if self.cancel_event.is_set():
            raise Cancelled("已取消生成。")
        now = time.monotonic()
        with self._lock:
            self.last_activity = now
            self.waiting_behind = event.ahead if isinstance(event, Queued) else 0
            if isinstance(event, SectionStarted):
                self.total = event.total or self.total
                self.sections = [s for s in self.sections if s.index != event.index]
                self.sections.append(SectionProgress(event.index, event.title, event.text, checked=len(event.text)))
            elif isinstance(event, Delta) and event.text:
                self._update(event.index, lambda s: replace(s, text=s.text + event.text))
                if self.first_text_s is None:
                    self.first_text_s = now - self.started
            elif isinstance(event, SectionChecked) and not event.ok:
                n = len(event.problems) + len(event.missing)
                self._update(event.index, lambda s: replace(s, note=f"核对发现 {n} 处问题，正在修正…"))
            elif isinstance(event, SectionRepaired):
                note = {"fallback": "已改用要点原话表述", "drop": "已删去要点中没有的内容"}.get(event.how, "已按要点修正")
                self._update(event.index, lambda s: replace(s, text=event.text, note=note))
            elif isinstance(event, PartDone) and event.part < event.parts - 1:
                self._update(event.index, lambda s: replace(s, text=event.text, checked=len(event.text)))
                if self.first_checked_s is None:
                    self.first_checked_s = now - self.started
            elif isinstance(event, SectionDone):
                self._update(event.index, lambda s: replace(s, text=event.text, done=True, seconds=event.seconds,
                                                            note=s.note.replace("正在修正…", "已修正")))
                if self.first_section_s is None:
                    self.first_section_s = now - self.started
                if self.first_checked_s is None:
                    self.first_checked_s = self.first_section_s

    def _update(self, index: int, change: Callable[[SectionProgress], SectionProgress]) -> None:
        """Change section `index`; one that never announced its start (a whole-draft run) is added."""
        if all(s.index != index for s in self.sections):
            title = self.titles[index] if index < len(self.titles) else ""
            self.sections = sorted([*self.sections, SectionProgress(index, title)], key=lambda s: s.index)
        self.sections = [change(s) if s.index == index else s for s in self.sections]

    def _finish(self, status: str, message: str = "") -> None:
        with self._lock:
            self.status, self.message = status, message
            self.ended = time.monotonic()

    def _run(self) -> None:
        try:
            service.run(self.store, self.accepted, self.on_event, self.cancel_event)
            self._finish(DONE)
        except Cancelled:
            self.store.delete_draft(self.accepted.id)
            self._finish(CANCELLED, "已取消。已写好的内容没有保存，您的要点和提纲都还在。")
        except Exception as exc:  # the row says why (service.run); the page must not spin forever
            self._finish(FAILED, service.failure_message(exc))


_jobs: dict[str, Job] = {}
_jobs_lock = threading.Lock()


def _register(job: Job) -> Job:
    with _jobs_lock:
        now = time.monotonic()
        for key in [k for k, j in _jobs.items() if j.ended is not None and now - j.ended > _KEEP_FINISHED_S]:
            del _jobs[key]
        if any(j.status == RUNNING and j.user_id == job.user_id for j in _jobs.values()):
            service.withdraw(job.store, job.accepted)
            raise RuntimeError("this user already has a drafting job running")
        _jobs[job.id] = job
    return job.start()


def get_job(job_id: str | None, user_id: int | None) -> Job | None:
    """Job `job_id` when it is `user_id`'s."""
    with _jobs_lock:
        job = _jobs.get(job_id) if job_id else None
    return job if job is not None and job.user_id == user_id else None


def running_job(user_id: int | None) -> Job | None:
    with _jobs_lock:
        return next((j for j in _jobs.values() if j.status == RUNNING and j.user_id == user_id), None)


def start_draft(store: Store, work: Intake, outline: Outline, user_id: int | None) -> Job:
    """Write the whole draft from `outline` (the service's policy: the flagged plain draft when
    the model cannot be used) as a new version of `user_id`. `QueueFull`: nothing started."""
    accepted = service.accept(store, work, user_id, draft_outline=outline)
    return _register(Job("draft", accepted, store, user_id, titles=[s.heading for s in outline.sections]))


def start_rewrite(store: Store, base: Draft, index: int, user_id: int | None) -> Job:
    """Rewrite section `index` of version `base` (for `user_id`) as its child version, which
    belongs to whoever `base` belongs to. `QueueFull`: nothing started."""
    accepted = service.accept_rewrite(store, base, index)
    return _register(Job("regenerate", accepted, store, user_id, titles=[s["heading"] for s in base.result["sections"]]))
