"""A fake OpenAI-compatible server on loopback for unit and fault-injection tests.

It speaks just enough of the API (`/v1/models`, `/v1/completions`, `/v1/chat/completions`,
streaming as server-sent events) for the `openai` client. `reply` decides the text from the
request body; `mode` injects faults: "ok", "hang", "error500", "drop", "garbage", and "cut" (the
stream stops halfway and the connection closes). `fail_first` answers the first N requests with
500 before behaving; `delay` sleeps that many seconds before each streamed piece (a slow model).
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[dict[str, Any]], str]


class FakeLLM:
    def __init__(self, reply: Reply | str = "今年以来，各项工作稳步推进。", mode: str = "ok",
                 model: str = "fake-model", chunk_chars: int = 4, fail_first: int = 0, delay: float = 0.0) -> None:
        self.reply = reply if callable(reply) else (lambda _body, text=reply: text)
        self.mode = mode
        self.model = model
        self.chunk_chars = chunk_chars
        self.fail_first = fail_first
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.hung_up = 0  # streams the client closed before their end
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._json(200, {"object": "list", "data": [{"id": fake.model, "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                if len(fake.requests) <= fake.fail_first:
                    self._json(500, {"error": {"message": "warming up"}})
                    return
                if fake.mode == "hang":
                    time.sleep(30)
                    return
                if fake.mode == "error500":
                    self._json(500, {"error": {"message": "boom"}})
                    return
                if fake.mode == "drop":
                    self.connection.close()
                    return
                text = fake.reply(body) if fake.mode != "garbage" else "\ufffd#*|xx20xx**\n\n\n"
                chat = self.path.endswith("/chat/completions")
                if body.get("stream"):
                    self._stream(text, chat)
                else:
                    choice = ({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                              if chat else {"index": 0, "text": text, "finish_reason": "stop"})
                    self._json(200, {"id": "x", "object": "chat.completion" if chat else "text_completion",
                                     "created": 0, "model": fake.model, "choices": [choice],
                                     "usage": {"prompt_tokens": 1, "completion_tokens": len(text), "total_tokens": 1}})

            def _stream(self, text: str, chat: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                if fake.mode == "cut":  # promise more than is sent, so the client sees the cut
                    self.send_header("Content-Length", "1000000")
                self.end_headers()
                pieces = [text[i:i + fake.chunk_chars] for i in range(0, len(text), fake.chunk_chars)] or [""]
                total = len(pieces)
                if fake.mode == "cut":
                    pieces, total = pieces[: max(1, len(pieces) // 2)], total + 1
                for n, piece in enumerate(pieces):
                    if fake.delay:
                        time.sleep(fake.delay)
                    last = n == total - 1
                    if chat:
                        choice = {"index": 0, "delta": {"content": piece}, "finish_reason": "stop" if last else None}
                        obj = "chat.completion.chunk"
                    else:
                        choice = {"index": 0, "text": piece, "finish_reason": "stop" if last else None}
                        obj = "text_completion"
                    chunk = {"id": "x", "object": obj, "created": 0, "model": fake.model, "choices": [choice]}
                    try:
                        self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):  # the client hung up mid-stream
                        fake.hung_up += 1
                        return
                if fake.mode == "cut":
                    self.connection.close()
                    return
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler
