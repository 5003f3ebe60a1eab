"""The HTTP API (design.md "Interfaces"): FastAPI over the same library as the page and the CLI.

    POST /v1/drafts          bullets → the checked draft (+ id, fallback, notes)
    POST /v1/drafts/stream   the same as server-sent events: accepted, queued, the pipeline's
                             per-section events, then result (or error)
    GET  /v1/drafts/{id}     a stored draft, finished or not (status)
    GET  /v1/drafts          newest drafts, or those of one X-Request-ID
    GET  /v1/drafts/{id}/export?format=docx|pdf|md   the draft as a file, the check's findings marked
    POST /v1/check           a draft against bullets → the check report
    GET  /v1/examples        past summaries' sections closest to a text
    GET  /healthz            liveness and the model queue (no key needed)
    /docs, /openapi.json     the schema (Swagger UI served locally, no CDN)

Loopback by default; with DRAFTING_API_KEY set every route but /healthz needs the bearer key.
`python -m drafting serve [--host] [--port] [--workers]` runs it with uvicorn.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ctypes
import ipaddress
import json
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

import anyio
from fastapi import FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response, StreamingResponse
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from drafting import service
from drafting.api.errors import ERROR_RESPONSES, error_response, validation_detail
from drafting.api.middleware import (
    CLIENT_ID_PATTERN,
    OPEN_PATHS,
    Authenticate,
    Authenticator,
    BodyLimit,
    Caller,
    HostGuard,
    RequestContext,
    RequestIdFilter,
    request_id_var,
)
from drafting.api.models import (
    MAX_EXAMPLES_K,
    MAX_QUERY_CHARS,
    CheckIn,
    CheckOut,
    DraftIn,
    DraftList,
    DraftOut,
    ExamplesOut,
    FastJSON,
    HealthOut,
    draft_out,
)
from drafting.api.protocol import GuardedHttpTools
from drafting.api.workers import supervise
from drafting.config import ApiSettings, get_settings, load_settings
from drafting.export import PdfUnavailable
from drafting.flow.events import Event, to_dict
from drafting.model.gate import ModelGate, QueueFull, QueueTimeout
from drafting.store import DONE, get_accounts, get_store
from drafting.text import RequestError, clean_text

log = logging.getLogger("drafting.api.app")

QUEUE_TIMEOUT = "排队等待模型的时间过长，本次未生成；要点已保存，请稍后重新提交。"
QUEUE_FULL = ("排队生成的请求已满，本次未受理。已为您保留顺位：请在 Retry-After 秒（或 X-Retry-After-Ms 毫秒）后"
              "重新提交，并在请求头 X-Queue-Token 中带上本响应的同名值。")
QueueToken = Annotated[int | None, Header(alias="X-Queue-Token", ge=1, le=2**63 - 1,
                                          description="上次 429 响应给出的排队凭证：带上它重新提交，按原顺位排队")]
INDEX_UNAVAILABLE = "检索索引暂时不可用，请确认索引已建立（python -m drafting index build）或 chroma 服务已启动。"
NOT_FOUND = "没有编号为 {id} 的草稿。"
NOT_FINISHED = "编号为 {id} 的草稿还没有生成完成（或生成失败），暂不能导出。请用 GET /v1/drafts/{id} 查看状态。"
CHECK_TIMEOUT = "核对未能在 {seconds:g} 秒内完成（草稿或要点过长），本次未核对。请分段核对或稍后重试。"
INLINE_CHECK_CHARS = 6_000  # draft + bullets; larger checks run in a thread with a time budget
SSE_KEEPALIVE_S = 15.0
SSE_EVENTS = ("accepted", "queued", "plan", "section_started", "delta", "section_checked", "section_repaired",
              "part_done", "section_done", "retry", "done", "result", "error")
SSE_EVENT_SCHEMA = {  # one event of the stream; `data` is a JSON object
    "type": "object", "required": ["event", "data"],
    "properties": {"event": {"type": "string", "enum": list(SSE_EVENTS)},
                   "data": {"type": "string", "contentMediaType": "application/json"}},
}


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _die_with_the_master() -> None:
    """In a worker that `serve --workers N` spawned: be killed when the master dies, even by
    SIGKILL, so that no orphan keeps serving and a restart can bind the port (Linux prctl)."""
    import multiprocessing
    import signal

    parent = multiprocessing.parent_process()
    if parent is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent.pid:  # the master died before the line above
        os.kill(os.getpid(), signal.SIGTERM)


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    _die_with_the_master()
    settings = settings or load_settings().api
    store = get_store()
    lost = store.recover_interrupted()
    if lost:
        log.warning("drafts interrupted by an earlier stop, input kept: %s", lost)
    gate = ModelGate(get_settings().database_url, settings.model_slots, settings.queue_size, settings.queue_wait)
    policy = service.Policy(settings.draft_timeout, settings.retries, settings.retry_backoff)
    drafting_threads = anyio.CapacityLimiter(settings.model_slots + settings.queue_size + 1)
    checking_threads = anyio.CapacityLimiter(2)

    app = FastAPIOffline(
        title="工会工作总结起草服务 API",
        version="1.0",
        description="要点进，核对过的初稿出：稿中每个数字都能在要点里找到出处。",
        default_response_class=FastJSON,
    )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    authenticator = Authenticator(settings.api_key, get_accounts())
    app.add_middleware(Authenticate, authenticator=authenticator)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-Queue-Token"],
                           expose_headers=["X-Request-ID", "Retry-After", "X-Retry-After-Ms", "X-Queue-Token"])
    app.add_middleware(HostGuard, hosts=settings.allowed_hosts)
    app.add_middleware(RequestContext)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> FastJSON:
        detail, errors = validation_detail(exc.errors())
        return error_response(422, detail, errors)

    @app.exception_handler(RequestError)
    async def _bad_request(_request: Request, exc: RequestError) -> FastJSON:
        return error_response(422, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> FastJSON:
        return error_response(exc.status_code, exc.detail, headers=exc.headers)

    @app.exception_handler(QueueFull)
    async def _full(_request: Request, exc: QueueFull) -> FastJSON:
        headers = {"Retry-After": str(exc.retry_after), "X-Retry-After-Ms": str(exc.retry_after_ms)}
        if exc.token is not None:
            headers["X-Queue-Token"] = str(exc.token)
        return error_response(429, QUEUE_FULL, headers=headers)

    @app.exception_handler(QueueTimeout)
    async def _timeout(_request: Request, exc: QueueTimeout) -> FastJSON:
        return error_response(503, QUEUE_TIMEOUT, headers={"Retry-After": str(exc.retry_after),
                                                           "X-Retry-After-Ms": str(exc.retry_after_ms)})

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> FastJSON:
        log.error("unhandled %s", type(exc).__name__, exc_info=exc)
        return error_response(500, f"服务内部错误，请稍后重试；如仍出错请把请求编号 {request_id_var.get()} 告诉管理员。",
                              headers={"X-Request-ID": request_id_var.get()})

    def accept(body: DraftIn, request: Request, queue_token: int | None) -> service.Accepted:
        """Validate and store as the caller's; `RequestError` → 422, `QueueFull` → 429 (nothing
        stored, a turn reserved for the token it carries)."""
        user_id = _caller(request).user_id
        work = service.intake_json(body.model_dump(), service.owner_key(user_id))
        return service.accept(store, work, user_id, request_id_var.get(), queue_token, policy=policy, gate=gate)

    def run(accepted: service.Accepted, on_event: Callable[[Event], None] | None = None) -> dict[str, Any]:
        """Wait for the model, draft, store; the `DraftOut` object. `QueueTimeout` → 503."""
        service.run(store, accepted, on_event)
        row = store.get_draft(accepted.id)
        assert row is not None
        return draft_out(row)

    @app.get("/healthz", response_model=HealthOut, response_model_exclude_none=True, tags=["service"],
             summary="存活检查（无需密钥；设置了密钥或账号时，带管理员密钥才显示排队情况）")
    async def healthz(request: Request) -> dict[str, Any]:
        caller = await authenticator.resolve(request.headers.get("authorization", "").encode("latin-1", "replace"))
        if caller is None or not caller.admin:
            return {"status": "ok"}
        return {"status": "ok", "queue": gate.stats()}

    @app.post("/v1/drafts", response_model=DraftOut, responses=ERROR_RESPONSES, tags=["drafts"],
              summary="根据要点生成核对过的总结初稿")
    async def create_draft(request: Request, body: DraftIn, queue_token: QueueToken = None) -> FastJSON:
        accepted = await run_in_threadpool(accept, body, request, queue_token)
        return FastJSON(await anyio.to_thread.run_sync(run, accepted, limiter=drafting_threads))

    @app.post("/v1/drafts/stream", responses={**ERROR_RESPONSES, 200: {
        "description": "server-sent events：accepted {id}、queued {ahead}、plan、section_started、delta、"
                       "section_checked、section_repaired、part_done（一节中已核对定稿的部分）、section_done、retry、done，最后 result（同 POST /v1/drafts 的返回）"
                       "或 error {status, detail}",
        "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}}}},
        tags=["drafts"], summary="生成初稿（流式，逐节推送）", response_class=StreamingResponse)
    async def create_draft_stream(request: Request, body: DraftIn, queue_token: QueueToken = None) -> StreamingResponse:
        accepted = await run_in_threadpool(accept, body, request, queue_token)
        return StreamingResponse(_stream(run, accepted), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/v1/drafts/{draft_id}", response_model=DraftOut, responses=ERROR_RESPONSES, tags=["drafts"],
             summary="取回一份草稿（含未完成的请求及其要点）")
    def get_draft(request: Request, draft_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> FastJSON:
        row = store.get_draft(draft_id, only_user=_caller(request).only_user)  # another user's: 404
        if row is None:
            raise HTTPException(404, NOT_FOUND.format(id=draft_id))
        return FastJSON(draft_out(row))

    @app.get("/v1/drafts/{draft_id}/export", responses={**ERROR_RESPONSES, 200: {
        "description": "草稿文件：docx 为公文格式（GB/T 9704，文末落款），pdf 为同一版式的 PDF，md 为 Markdown；"
                       "找不到依据的数字和表述在文件中标出并说明原因（Word 批注、Markdown 脚注）。"
                       "响应头 X-Export-Note（URL 编码）说明字体等注意事项。",
        "content": {media: {"schema": {"type": "string", "format": "binary"}}
                    for media, _ in service.EXPORT_FORMATS.values()}}},
        tags=["drafts"], summary="导出草稿文件（核对发现随文标出）", response_class=Response)
    def export_draft(request: Request, draft_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
                     fmt: Annotated[Literal[tuple(service.EXPORT_FORMATS)], Query(alias="format")] = "docx",  # type: ignore[valid-type]
                     signed: Annotated[date | None, Query(alias="date", description="成文日期（落款），默认今天")] = None,
                     ) -> Response:
        row = store.get_draft(draft_id, only_user=_caller(request).only_user)
        if row is None:
            raise HTTPException(404, NOT_FOUND.format(id=draft_id))
        if row.status != DONE:
            raise HTTPException(409, NOT_FINISHED.format(id=draft_id))
        try:
            out = service.export(row, fmt, signed)
        except PdfUnavailable as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": "60"}) from exc
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(out.filename)}"}
        if out.note:
            headers["X-Export-Note"] = quote(out.note)
        return Response(out.data, media_type=out.media_type, headers=headers)

    @app.get("/v1/drafts", response_model=DraftList, responses=ERROR_RESPONSES, tags=["drafts"],
             summary="最近的草稿（含未完成、中断的）；或按请求编号（X-Request-ID）查找")
    def list_drafts(request: Request, request_id: Annotated[str | None, Query(pattern=CLIENT_ID_PATTERN)] = None,
                    limit: Annotated[int, Query(ge=1, le=100)] = 20) -> FastJSON:
        # All statuses: a client whose connection dropped finds its accepted, running or interrupted draft.
        only_user = _caller(request).only_user
        ids = (store.find_by_request_id(request_id, only_user)[:limit] if request_id
               else store.recent_ids(limit, only_user))
        rows = [row for row in map(store.get_draft, ids) if row is not None]
        return FastJSON({"drafts": [draft_out(row) for row in rows]})

    @app.post("/v1/check", response_model=CheckOut, responses=ERROR_RESPONSES, tags=["check"],
              summary="核对草稿中的每个数字是否来自要点")
    async def check_draft(body: CheckIn) -> FastJSON:
        def run() -> dict[str, Any]:
            return service.check(body.draft, body.facts, body.org, body.period, body.year).to_dict()

        # A usual check (~5 ms for a 1,500-character draft) is answered on the event loop: a
        # thread hop would cost more than it frees. A large one goes to a thread with a time
        # budget, so that /healthz and other requests are served meanwhile.
        if len(body.draft) + sum(map(len, body.facts)) <= INLINE_CHECK_CHARS:
            return FastJSON(run())
        try:
            with anyio.fail_after(settings.check_timeout):
                return FastJSON(await anyio.to_thread.run_sync(run, limiter=checking_threads, abandon_on_cancel=True))
        except TimeoutError:
            raise HTTPException(503, CHECK_TIMEOUT.format(seconds=settings.check_timeout),
                                headers={"Retry-After": "30"}) from None

    @app.get("/v1/examples", response_model=ExamplesOut, responses=ERROR_RESPONSES, tags=["examples"],
             summary="检索往年总结中相近的段落（只供借鉴措辞）")
    def get_examples(q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="要点或段落")],
                     k: Annotated[int, Query(ge=1, le=MAX_EXAMPLES_K)] = 5,
                     org: Annotated[str | None, Query(max_length=60, description="单位名称或层级（优先同类）")] = None,
                     period: Annotated[str | None, Query(max_length=20)] = None,
                     kind: Annotated[str | None, Query(pattern="^(opening|topic|problems|plan|closing)$")] = None,
                     ) -> FastJSON:
        text = clean_text(q).strip()
        try:
            found = service.examples(text, k, org, period, kind) if text else []
        except Exception as exc:  # the index is a separate service (chroma) or an unbuilt directory
            log.warning("example index unavailable: %s: %s", type(exc).__name__, exc)
            raise HTTPException(503, INDEX_UNAVAILABLE, headers={"Retry-After": "30"}) from exc
        return FastJSON({"query": text, "examples": found})

    app.openapi = lambda: _openapi(app, settings)  # type: ignore[method-assign]
    return app


def _caller(request: Request) -> Caller:
    caller: Caller = request.state.caller
    return caller


async def _stream(run: Callable[[service.Accepted, Callable[[Event], None]], dict[str, Any]],
                  accepted: service.Accepted) -> AsyncIterator[str]:
    """Run the draft in a thread and relay its events; the draft finishes and is stored even
    when the client goes away."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    def put(kind: str, payload: dict[str, Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the server is shutting down; the stored row tells the outcome
            loop.call_soon_threadsafe(events.put_nowait, (kind, payload))

    def work() -> None:
        try:
            put("result", run(accepted, lambda event: put(event.type, to_dict(event))))
        except QueueTimeout as exc:
            put("error", {"status": 503, "detail": QUEUE_TIMEOUT, "retry_after": exc.retry_after})
        except Exception:
            put("error", {"status": 500, "detail": f"服务内部错误；要点已保存（草稿编号 {accepted.id}），请稍后重新提交。"})

    yield _sse("accepted", {"id": accepted.id})
    threading.Thread(target=contextvars.copy_context().run, args=(work,), name=f"draft-{accepted.id}",
                     daemon=True).start()
    while True:
        try:
            kind, payload = await asyncio.wait_for(events.get(), SSE_KEEPALIVE_S)
        except TimeoutError:
            yield ": keep-alive\n\n"
            continue
        yield _sse(kind, payload)
        if kind in ("result", "error"):
            return


def _openapi(app: FastAPI, settings: ApiSettings) -> dict[str, Any]:
    """The generated schema, plus the bearer scheme on every route but /healthz when a key is set."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        if settings.api_key:
            schema.setdefault("components", {})["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
            for path, operations in schema["paths"].items():
                if path not in OPEN_PATHS:
                    for operation in operations.values():
                        operation["security"] = [{"bearerAuth": []}]
        app.openapi_schema = schema
    return app.openapi_schema


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def logging_config() -> dict[str, Any]:
    """uvicorn's logging with the request id on every line of ours (and no access log: ours has it)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"],
                                "stream": "ext://sys.stderr"}},
        "loggers": {
            "drafting": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


def _limit_malloc_arenas() -> None:
    """glibc gives busy threads malloc arenas of their own; with drafting threads coming and going
    the heap fragments and resident memory creeps up (measured: +45 MB over 1,200 drafts, flat
    with two arenas). Workers inherit the variable; this process changes its own setting."""
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> int:
    """Run the API with uvicorn until stopped. Anything but loopback needs keys: DRAFTING_API_KEY
    or accounts (`users add`, `keys create`)."""
    import uvicorn

    try:
        settings = get_settings()
    except ValueError as exc:  # a setting that would open the service to any web page
        sys.stderr.write(f"错误：{exc}\n")
        return 2
    if not _is_loopback(host) and not settings.api_key and not get_accounts().configured():
        sys.stderr.write(f"错误：要在 {host} 上对外提供服务，必须先设置访问密钥 DRAFTING_API_KEY，"
                         "或添加账号（python -m drafting users add NAME）并为用户创建密钥（keys create NAME）。\n")
        return 2
    _limit_malloc_arenas()
    options: dict[str, Any] = {"log_config": logging_config(), "access_log": False, "timeout_graceful_shutdown": 30,
                               "http": GuardedHttpTools, "limit_concurrency": settings.api.max_connections,
                               "timeout_keep_alive": 5}
    if workers > 1:
        return supervise(host, port, workers, options)
    uvicorn.run("drafting.api.app:create_app", factory=True, host=host, port=port, **options)
    return 0
