"""The HTTP connection as the API serves it: uvicorn's httptools protocol with the guards it lacks.

uvicorn reads request headers without a size limit or a deadline (a 50 MB header was answered
200; 300 half-sent requests were still open after a minute), and its own 400 is English plain
text. Here a request's head (request line and headers) must arrive within the configured
`header_timeout` seconds and `MAX_HEAD_BYTES` bytes; otherwise the client gets a Chinese JSON 408/431 and the
connection is closed. Open connections are capped by uvicorn's `limit_concurrency` (see
`app.serve`).
"""
from __future__ import annotations

import asyncio

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from drafting.api.middleware import error_body, send_json
from drafting.config import get_settings

MAX_HEAD_BYTES = 64 * 1024
LINGER_SECONDS = 2.0

BAD_REQUEST = "请求格式不正确（不是有效的 HTTP 请求）。"
HEAD_TOO_LARGE = f"请求头过大（上限 {MAX_HEAD_BYTES // 1024} KB）。"
HEAD_TOO_SLOW = "请求头未在 {seconds:g} 秒内发送完整，连接已关闭。"
_PHRASES = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


TOO_MANY_CONNECTIONS = "服务器当前连接过多，请稍后重试。"


async def _too_many_connections(scope: Scope, receive: Receive, send: Send) -> None:
    await send_json(send, 503, TOO_MANY_CONNECTIONS, {"Retry-After": "5", "Connection": "close"})


class GuardedHttpTools(HttpToolsProtocol):
    """httptools with a size limit and a deadline on each request's head, and Chinese errors."""

    _head_bytes = 0
    _head_timer: asyncio.TimerHandle | None = None
    _reading_head = True
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering after a refusal: read and drop, so the client gets the answer
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._reading_head and self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
            self._refuse(431, HEAD_TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._reading_head:  # the next request on a kept-alive connection
            self._start_head()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._stop_head_timer()
        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            # uvicorn's own 503 is English plain text: run ours in its place
            app, self.app, self.limit_concurrency = self.app, _too_many_connections, None
            try:
                super().on_headers_complete()
            finally:
                self.app, self.limit_concurrency = app, limit
            return
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, BAD_REQUEST)

    def _start_head(self) -> None:
        self._reading_head, self._head_bytes = True, 0
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(get_settings().api.header_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._reading_head and not self.transport.is_closing():
            self._refuse(408, HEAD_TOO_SLOW.format(seconds=get_settings().api.header_timeout))

    def _refuse(self, status: int, detail: str) -> None:
        self._stop_head_timer()
        body = error_body(detail)
        head = [b"HTTP/1.1 %d %s\r\n" % (status, _PHRASES[status])]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body),
                 b"connection: close\r\n", b"\r\n"]
        self.transport.write(b"".join(head) + body)
        # Closing with unread input makes the kernel reset the connection, and a client still
        # sending (a huge header) would lose the answer: half-close, drop input, close soon.
        self._refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

