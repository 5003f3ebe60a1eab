"""One service behind the three faces: the page (`app.py`), the HTTP API (`drafting.api`) and
the command line (`drafting.cli`) call these functions and compose nothing themselves.

    intake   the user's input → a validated request, instruction-like and garbage lines left out
    outline  the planned sections (retrieval votes on where a bullet belongs)
    write    the draft, with one policy for every face: a deadline, retries after transient
             model errors, and the flagged plain draft when the model cannot be used
    check    a draft against bullets and fields (one rule for org, period and year)
    rewrite  one section of a stored version again, every other character kept
    edit     a user's edit re-checked and kept as a new version
    accept   a draft's place in the model queue taken and its row stored before it is
             written (the input survives a crash)
    run      the accepted draft written in turn and stored, or its row marked failed

Everything a face shows in Chinese comes from here or from the stages; the faces only present it.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import httpx
import openai

from drafting.checker.report import CheckReport
from drafting.config import get_settings
from drafting.export import FONT_NOTE, pdf_note, to_docx, to_markdown, to_pdf
from drafting.flow.assemble import section_heading
from drafting.flow.check import check as check_text
from drafting.flow.derive import derived_note, prepare
from drafting.flow.events import Event, Queued, Retrying
from drafting.flow.pipeline import Cancelled, DraftResult, draft, plain_draft, regenerate_section
from drafting.flow.plan import Outline, plan, title_for
from drafting.flow.request import (
    DraftRequest,
    RequestError,
    SectionInput,
    build_request,
    clean_text,
    parse_facts_text,
    parse_year,
    request_from_json,
    strip_bullet_marker,
    validate_facts,
)
from drafting.flow.retrieve import open_index, votes_for
from drafting.flow.revise import save_edit
from drafting.flow.screen import ignored_note
from drafting.model.endpoint import get_client
from drafting.model.gate import ModelGate, QueueFull, QueueTimeout, Ticket
from drafting.model.llm import DeadlineReached, LLMClient, LLMError
from drafting.model.llm import deadline as call_deadline
from drafting.store import FAILED, RUNNING, Draft, Store

if TYPE_CHECKING:  # the index module loads only when a draft or an upload needs it
    from drafting.retrieval.index import AddReport

log = logging.getLogger(__name__)

MODEL_ERRORS = (LLMError, openai.OpenAIError, httpx.HTTPError)
FALLBACK = "本稿由要点原话直接整理，未经模型润色，所有数字均来自要点；模型恢复后可重新生成。"


# ---------------------------------------------------------------- intake


@dataclass(frozen=True)
class Intake:
    """A validated request: `request` is what will be drafted, `given` what the user sent
    (stored as such), `ignored` the lines left out of the first."""

    request: DraftRequest
    given: DraftRequest
    ignored: list[str] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return [note for note in (ignored_note(self.ignored) if self.ignored else "", derived_note(self.request)) if note]

    @property
    def facts_text(self) -> str:
        """The bullets in the FACTS.txt form the page stores and shows."""
        return facts_text(self.given.sections)


def facts_text(sections: list[SectionInput]) -> str:
    lines: list[str] = []
    for section in sections:
        if section.title:
            lines.append(f"# {section.title}")
        lines += section.facts
    return "\n".join(lines)


def owner_key(user_id: int | None) -> str:
    """The key of a user's own things (autosave, uploaded summaries, queue places); "" for the
    one local user without accounts."""
    return f"user:{user_id}" if user_id is not None else ""


def _screened(given: DraftRequest, owner: str) -> Intake:
    if owner:  # whose uploaded past summaries the draft may use: set here, never by the caller
        given.options["owner"] = owner
    work, ignored = prepare(given)
    return Intake(work, given, ignored)


def intake(org: str, period: str, year: Any, sections: list[SectionInput],
           options: dict[str, Any] | None = None, owner: str = "") -> Intake:
    """Bullets already grouped (the page's outline); raises `RequestError` in Chinese. `owner`
    (`owner_key`) is the user drafting."""
    return _screened(build_request(org, period, year, sections, options), owner)


def intake_text(org: str, period: str, year: Any, text: str, options: dict[str, Any] | None = None,
                owner: str = "") -> Intake:
    """A FACTS.txt text: one bullet a line, `#` or `【…】` headings."""
    return intake(org, period, year, parse_facts_text(text), options, owner)


def intake_json(payload: dict[str, Any], owner: str = "") -> Intake:
    """The HTTP API's request object (`facts` or `sections`)."""
    return _screened(request_from_json(payload), owner)


def outline(work: Intake) -> Outline:
    return plan(work.request, votes_for(work.request))


# ---------------------------------------------------------------- write


@dataclass(frozen=True)
class Policy:
    """How long a draft may take and how often a transient model error is tried again."""

    deadline: float = 900.0
    retries: int = 1
    backoff: float = 1.0

    @classmethod
    def configured(cls) -> Policy:
        """The configured one (DRAFTING_API_DRAFT_TIMEOUT, …_RETRIES, …_RETRY_BACKOFF), which every
        face uses unless it is given another."""
        api = get_settings().api
        return cls(api.draft_timeout, api.retries, api.retry_backoff)


@dataclass
class Outcome:
    """A written draft: the result, whether it is the plain fallback, and what to tell the user."""

    result: DraftResult
    fallback: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self, ignored: list[str] | None = None) -> dict[str, Any]:
        return {**self.result.to_dict(), "fallback": self.fallback, "notes": self.notes,
                "ignored_facts": list(ignored or [])}


def _transient(exc: BaseException) -> bool:
    """Worth another try: a refused or dropped connection, a 5xx, a rate limit; not a timeout."""
    cause = exc.__cause__ if isinstance(exc, LLMError) and exc.__cause__ else exc
    if isinstance(cause, (openai.APITimeoutError, httpx.TimeoutException)):
        return False
    return isinstance(cause, (openai.APIConnectionError, openai.InternalServerError, openai.RateLimitError,
                              httpx.TransportError))


def _fell_back(result: DraftResult) -> list[int]:
    """The sections whose model text failed the check and were restated from their bullets."""
    return [i for i, s in enumerate(result.sections) if any(r.get("how") == "fallback" for r in s.repairs)]


def _all_fell_back(result: DraftResult) -> bool:
    written = [i for i, s in enumerate(result.sections) if s.facts]
    return bool(written) and set(written) <= set(_fell_back(result))


def _section_notes(result: DraftResult) -> list[str]:
    fallen = _fell_back(result)
    if not fallen:
        return []
    numbers = "、".join(section_heading(i, "").rstrip("、") for i in fallen)
    return [f"第{numbers}节中模型所写内容未通过核对，已改用要点原话表述。"]


def write(work: Intake, draft_outline: Outline | None = None, on_event: Callable[[Event], None] | None = None,
          cancel: threading.Event | None = None, policy: Policy | None = None,
          connect: Callable[[], LLMClient] = get_client) -> Outcome:
    """The draft of `work.request`, or — when the model cannot be used (down, failing, past the
    deadline) — the plain statement of the bullets, flagged, with the reason in `notes`.

    The deadline is checked at every pipeline event (each section start and text piece), so a
    slow model is stopped even mid-section, and every model call inside ends by it, so a hung
    or silent one is stopped too. A user's cancel raises `Cancelled`. A draft whose every
    section had to be restated from its bullets is the fallback as well, and says so.
    """
    policy = policy or Policy.configured()
    request = work.request
    deadline = time.monotonic() + policy.deadline
    timed_out = threading.Event()

    def watched(event: Event) -> None:
        if time.monotonic() > deadline:
            timed_out.set()
            raise Cancelled("deadline")
        if on_event is not None:
            on_event(event)

    attempt = 0
    while True:
        try:
            with call_deadline(deadline):
                result = draft(request, on_event=watched, client=connect(), outline=draft_outline, cancel=cancel)
            return Outcome(result, _all_fell_back(result), [*_section_notes(result), *result.notes, *work.notes])
        except (Cancelled, DeadlineReached) as exc:
            if isinstance(exc, Cancelled) and not timed_out.is_set():
                raise
            note = f"模型生成超时（超过 {policy.deadline:g} 秒）。{FALLBACK}"
            return Outcome(plain_draft(request, draft_outline), True, [note, *work.notes])
        except MODEL_ERRORS as exc:
            delay = policy.backoff * 2 ** attempt
            if attempt >= policy.retries or not _transient(exc) or time.monotonic() + delay > deadline:
                log.warning("model unavailable, plain fallback: %s: %s", type(exc).__name__, exc)
                reason = str(exc) if isinstance(exc, LLMError) else "模型服务连接中断。"
                return Outcome(plain_draft(request, draft_outline), True,
                               [f"模型暂时无法使用：{reason}{FALLBACK}", *work.notes])
            attempt += 1
            log.warning("transient model error, retry %d in %.1fs: %s: %s", attempt, delay, type(exc).__name__, exc)
            if on_event is not None:
                on_event(Retrying(attempt, delay))
            time.sleep(delay)


def model_gate() -> ModelGate:
    """This process's handle on the one model queue that every process shares."""
    settings = get_settings()
    api = settings.api
    return _gate(settings.database_url, api.model_slots, api.queue_size, api.queue_wait)


@lru_cache(maxsize=4)
def _gate(database: str, slots: int, queue_size: int, wait_s: float) -> ModelGate:
    return ModelGate(database, slots, queue_size, wait_s)


@contextmanager
def model_turn(on_event: Callable[[Event], None] | None = None) -> Iterator[None]:
    """Wait for a model slot in turn with every other process (API workers, pages, the CLI);
    `Queued` events tell how many are ahead. Raises `QueueFull` or `QueueTimeout`."""
    gate = model_gate()
    ticket = gate.enqueue()
    with gate.acquire(ticket, on_position=lambda ahead: on_event(Queued(ahead)) if on_event and ahead else None):
        yield


def busy_message(exc: QueueFull | QueueTimeout) -> str:
    """What the page and the CLI say when the shared model queue refuses or times out."""
    if isinstance(exc, QueueFull):
        return f"模型正忙，排队的草稿已满，本次未开始生成。请约 {exc.retry_after} 秒后再试；要点都还在。"
    return f"排队等待模型的时间过长，本次未生成。请约 {exc.retry_after} 秒后再试；要点都还在。"


def plain(work: Intake, draft_outline: Outline | None = None) -> Outcome:
    """The deterministic draft, without the model, on the user's own request."""
    return Outcome(plain_draft(work.request, draft_outline), True, [FALLBACK, *work.notes])


# ---------------------------------------------------------------- check, rewrite, edit, save


def check(draft_text: str, facts: list[str], org: str | None = None, period: str | None = None,
          year: Any = None) -> CheckReport:
    """A draft against bullets and the request fields; the year is validated like a request's
    (a bad one is a `RequestError`), bullets are cleaned like a request's."""
    cleaned = [f for f in (strip_bullet_marker(clean_text(b)) for b in facts) if f]
    if cleaned:
        validate_facts([SectionInput(title=None, facts=cleaned)])
    parsed = parse_year(year)
    fields = [clean_text(v).strip() for v in (org, period) if v] + ([f"{parsed}年"] if parsed else [])
    return check_text(clean_text(draft_text), cleaned, fields=fields)


def rewrite(base: Draft, index: int, on_event: Callable[[Event], None] | None = None) -> DraftResult:
    """Section `index` of the stored version `base` written again; every other character kept."""
    return regenerate_section(prepare(request_from_json(base.request))[0], base.result, index, on_event=on_event)


def edit(store: Store, base: Draft, text: str) -> tuple[int | None, dict[str, Any]]:
    """The user's edit checked and kept as a child of `base` (None when the text is unchanged)."""
    return save_edit(store, base, text)


@dataclass
class Accepted:
    """A draft's stored row with its place in the model queue; `produce` writes it (given the
    events' receiver) and returns what fills the row."""

    id: int
    ticket: Ticket
    gate: ModelGate
    produce: Callable[[Callable[[Event], None]], dict[str, Any]]


def accept(store: Store, work: Intake, user_id: int | None = None, request_id: str = "",
           queue_token: int | None = None, draft_outline: Outline | None = None,
           policy: Policy | None = None, gate: ModelGate | None = None) -> Accepted:
    """Take a place in the model queue (`queue_token`: the one an earlier refusal reserved),
    then store the request as a new draft's row (status "accepted") before anything is
    written: if the process dies while the model writes, the user's input is still there,
    marked "interrupted". `QueueFull`: nothing stored."""
    def produce(on_event: Callable[[Event], None]) -> dict[str, Any]:
        return write(work, draft_outline, on_event=on_event, policy=policy).to_dict(work.ignored)

    return _queued(gate, queue_token, owner_key(user_id), produce, lambda: store.accept_draft(
        title=title_for(work.given), request=work.given.to_dict(), facts_text=work.facts_text,
        request_id=request_id, user_id=user_id))


def accept_rewrite(store: Store, base: Draft, index: int, gate: ModelGate | None = None) -> Accepted:
    """Section `index` of `base` to be written again, as a child version stored before it is
    written; it belongs to `base`'s owner."""
    def produce(on_event: Callable[[Event], None]) -> dict[str, Any]:
        return rewrite(base, index, on_event=on_event).to_dict()

    return _queued(gate, None, owner_key(base.user_id), produce, lambda: store.accept_draft(
        title=base.title, request=base.request, facts_text=base.facts_text, kind="regenerated",
        parent_id=base.id, user_id=base.user_id))


def _queued(gate: ModelGate | None, queue_token: int | None, holder: str,
            produce: Callable[[Callable[[Event], None]], dict[str, Any]], store_row: Callable[[], int]) -> Accepted:
    gate = gate or model_gate()
    ticket = gate.enqueue(queue_token, holder=holder)
    try:
        draft_id = store_row()
    except BaseException:
        gate.cancel(ticket)
        raise
    return Accepted(draft_id, ticket, gate, produce)


def run(store: Store, accepted: Accepted, on_event: Callable[[Event], None] | None = None,
        cancel: threading.Event | None = None) -> None:
    """Wait for the model in turn with every other process (`Queued` events say how many are
    ahead), write, and fill the row. A failure marks the row failed with `failure_message` and
    is raised again; a cancel (`Cancelled`, from `on_event` or `cancel`) leaves the row to the
    caller."""
    emit = on_event or (lambda _event: None)
    try:
        slot = accepted.gate.acquire(accepted.ticket, on_position=lambda ahead: emit(Queued(ahead)))
        with slot:
            store.set_status(accepted.id, RUNNING)
            data = accepted.produce(emit)
        if cancel is not None and cancel.is_set():
            raise Cancelled("已取消生成。")
        finish(store, accepted.id, data)
    except Cancelled:
        raise
    except BaseException as exc:
        log.exception("draft %d failed", accepted.id)
        store.set_status(accepted.id, FAILED, failure_message(exc))
        raise


def withdraw(store: Store, accepted: Accepted) -> None:
    """An accepted draft that will not be written: its place and its row given up."""
    accepted.gate.cancel(accepted.ticket)
    store.delete_draft(accepted.id)


def failure_message(exc: BaseException) -> str:
    """Why a draft did not come, as every face says it (the input is always kept)."""
    if isinstance(exc, (QueueFull, QueueTimeout)):
        return busy_message(exc)
    if isinstance(exc, (LLMError, RequestError)):
        return str(exc)
    return "生成时出现内部错误，要点已保存，请稍后重新提交。"


def finish(store: Store, draft_id: int, data: dict[str, Any]) -> None:
    """Fill an accepted row with its result (`Outcome.to_dict()` or `DraftResult.to_dict()`)."""
    store.finish_draft(draft_id, text=data["text"], title=data["title"], check=data["check"], result=data)


# ---------------------------------------------------------------- export


@dataclass(frozen=True)
class Export:
    """A stored draft as a file: its bytes, media type, file name and what to tell the user."""

    data: bytes
    media_type: str
    filename: str
    note: str = ""


EXPORT_FORMATS = {"docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
                  "pdf": ("application/pdf", ".pdf"), "md": ("text/markdown; charset=utf-8", ".md")}


def file_stem(title: str) -> str:
    """A file name from a title: no path separators, wildcards or spaces; at most 60 characters."""
    return re.sub(r'[\\/:*?"<>|\s]+', "", title)[:60] or "工作总结"


def export_file(title: str, fmt: str) -> tuple[str, str]:
    """The file name and media type of a draft titled `title` exported as `fmt`."""
    media_type, suffix = EXPORT_FORMATS[fmt]
    return file_stem(title) + suffix, media_type


def export(draft: Draft, fmt: str, signed: date | None = None) -> Export:
    """`draft` as `fmt` ("docx", "pdf" or "md") with the check's findings marked; .docx and PDF
    signed by the request's body on `signed` (None: today). PDF raises `PdfUnavailable` when
    the server cannot make it."""
    name, media_type = export_file(draft.title, fmt)
    if fmt == "md":
        return Export(to_markdown(draft.text, draft.check).encode(), media_type, name)
    data = to_docx(draft.text, draft.check, org=draft.request.get("org") or None, signed=signed or date.today(),
                   template=get_settings().docx_template)
    if fmt == "pdf":
        return Export(to_pdf(data), media_type, name, pdf_note())
    return Export(data, media_type, name, FONT_NOTE)


# ---------------------------------------------------------------- the user's own past summaries


def examples(text: str, k: int, org: str | None = None, period: str | None = None,
             kind: str | None = None) -> list[dict[str, Any]]:
    """The `k` shared past sections closest to `text`, those of a body like `org` and a period
    like `period` first (`kind`: only sections of that kind)."""
    return [e.to_dict() for e in open_index().query(text, k=k, org_level=org, period=period, kind=kind)]


def add_examples(uploads: list[tuple[str, bytes]], owner: str,
                 on_file: Callable[[int, int, str], None] | None = None) -> AddReport:
    """Add uploaded past summaries (name, bytes) as `owner`'s own examples (see `owner_key`);
    the report says what was found in each file and what could not be read."""
    return open_index().add_uploads(uploads, owner, on_file)


def my_examples(owner: str) -> list[dict[str, Any]]:
    """`owner`'s added past summaries: id, title, org_level, period, sections."""
    return open_index().owned(owner)


def remove_example(summary_id: str, owner: str) -> bool:
    """Remove one of `owner`'s added past summaries (False: no such summary of theirs)."""
    return open_index().remove(summary_id, owner) > 0


__all__ = [
    "EXPORT_FORMATS",
    "Accepted",
    "Export",
    "Intake",
    "Outcome",
    "Policy",
    "QueueFull",
    "QueueTimeout",
    "RequestError",
    "accept",
    "accept_rewrite",
    "add_examples",
    "busy_message",
    "check",
    "edit",
    "examples",
    "export",
    "export_file",
    "facts_text",
    "failure_message",
    "finish",
    "intake",
    "intake_json",
    "intake_text",
    "model_gate",
    "model_turn",
    "my_examples",
    "outline",
    "owner_key",
    "plain",
    "remove_example",
    "rewrite",
    "run",
    "withdraw",
    "write",
]
