"""The HTTP API's outer layers, as plain ASGI middleware (cheap on the /v1/check hot path).

Outermost first: request id, security headers and one log line per request; the Host
allow-list; the caller (the admin key, a user's key, or the one local user); the body-size limit. Every refusal is JSON with a Chinese `detail`
and the request id.
"""
from __future__ import annotations

import contextvars
import hmac
import json
import logging
import random
import re
import time
from dataclasses import dataclass

import anyio
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drafting.store.accounts import KEY_PREFIX, Accounts

log = logging.getLogger("drafting.api.app")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
CLIENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"  # the X-Request-ID values kept; others are replaced
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
OPEN_PATHS = frozenset({"/healthz"})

UNAUTHORIZED = "缺少或错误的访问密钥：请在请求头中加入 Authorization: Bearer <密钥>。"
UNKNOWN_HOST = "请求的主机名不在允许之列（Host 请求头）。如需用其他名称访问，请设置 DRAFTING_API_ALLOWED_HOSTS。"
# On every response: no MIME sniffing, no framing, no referrer, no caching of drafts. The
# content policy is for the JSON routes; the local Swagger page (/docs) needs its scripts.
_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                     (b"referrer-policy", b"no-referrer"), (b"cross-origin-resource-policy", b"same-origin")]
_API_HEADERS = [(b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
                (b"cache-control", b"no-store")]


def body_too_large(limit: int) -> str:
    return f"请求体过大（上限 {limit // 1024} KB）。请精简要点或分批提交。"


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every log record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def error_body(detail: str) -> bytes:
    """The JSON of a refusal made outside FastAPI (`ErrorOut`: detail, errors, request id)."""
    return json.dumps({"detail": detail, "errors": [], "request_id": request_id_var.get()}, ensure_ascii=False).encode()


def bearer_matches(given: bytes, expected: bytes) -> bool:
    """`Authorization` against `Bearer <key>`, in constant time."""
    return hmac.compare_digest(given, expected)


async def send_json(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = error_body(detail)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestContext:
    """Assigns the request id (the client's `X-Request-ID` when sane), echoes it, logs the outcome.

    Only the method, path, status and time are logged: never headers, bodies or query strings.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = (_header(scope, b"x-request-id") or b"").decode("latin-1")
        request_id = given if _CLIENT_ID.match(given) else f"{random.getrandbits(64):016x}"  # cheap; not a secret
        request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        extra = [(b"x-request-id", request_id.encode()), *_SECURITY_HEADERS]
        if not scope["path"].startswith(("/docs", "/redoc", "/static")):
            extra += _API_HEADERS

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                given = message.get("headers", [])
                names = {name.lower() for name, _ in given}
                message["headers"] = [*given, *(h for h in extra if h[0] not in names)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info("%s %s %d %.1fms", scope["method"], scope["path"], status,
                     (time.perf_counter() - started) * 1000)


class HostGuard:
    """400 for a Host header not in the allow-list (port ignored): a web page that reaches a
    loopback server under a name of its own (DNS rebinding) cannot read drafts."""

    def __init__(self, app: ASGIApp, hosts: tuple[str, ...]) -> None:
        self.app = app
        self._any = "*" in hosts
        self._hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._any or scope["type"] != "http" or _host_name(_header(scope, b"host")) in self._hosts:
            await self.app(scope, receive, send)
            return
        await send_json(send, 400, UNKNOWN_HOST)


def _host_name(raw: bytes | None) -> str:
    host = (raw or b"").decode("latin-1").strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[:host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user's key, the admin key (`DRAFTING_API_KEY`) or, with neither keys nor
    accounts configured, the one local user."""

    user_id: int | None  # the account the caller's drafts belong to; None: no account
    admin: bool

    @property
    def only_user(self) -> int | None:
        """The rows this caller may see: an admin every row, a user their own."""
        return None if self.admin else self.user_id


ADMIN = Caller(None, admin=True)
_ACCOUNTS_RECHECK_S = 1.0


class Authenticator:
    """Resolves the `Authorization` header to a `Caller`, or None (401).

    A user's key is looked up on every request, so that a revoked key answers 401 at once.
    Whether accounts exist is looked up at most once a second until they do; from then on
    every call needs a key."""

    def __init__(self, api_key: str | None, accounts: Accounts) -> None:
        self._expected = f"Bearer {api_key}".encode() if api_key else None
        self._accounts = accounts
        self._accounts_on = False
        self._checked_at = -_ACCOUNTS_RECHECK_S

    @property
    def open(self) -> bool:
        """No key and no accounts configured: loopback use by the one local user."""
        return self._expected is None and not self._accounts_on

    async def refresh(self) -> None:
        if not self._accounts_on and time.monotonic() - self._checked_at >= _ACCOUNTS_RECHECK_S:
            self._accounts_on = await anyio.to_thread.run_sync(self._accounts.configured)
            self._checked_at = time.monotonic()

    async def resolve(self, given: bytes) -> Caller | None:
        await self.refresh()
        if self._expected is not None and bearer_matches(given, self._expected):
            return ADMIN
        if self._accounts_on and given.startswith(b"Bearer " + KEY_PREFIX.encode()):
            key = given[len(b"Bearer "):].decode("latin-1")
            user = await anyio.to_thread.run_sync(self._accounts.user_for_key, key)
            return Caller(user.id, user.is_admin) if user is not None else None
        return ADMIN if self.open else None


class Authenticate:
    """Every path but /healthz needs a caller (`Authenticator`); it is put in the request's state."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app, self.authenticator = app, authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        caller = await self.authenticator.resolve(_header(scope, b"authorization") or b"")
        if caller is None:
            await send_json(send, 401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


class BodyLimit:
    """413 for a body over `limit` bytes: at once by Content-Length, else while it streams in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            status = 413 if declared.isdigit() else 400
            detail = body_too_large(self.limit) if status == 413 else "请求头 Content-Length 不合法。"
            await send_json(send, status, detail)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(status_code=413, detail=body_too_large(self.limit))
            return message

        await self.app(scope, limited_receive, send)
