"""A local OpenAI-compatible ``/v1/chat/completions`` server over a real socket, for the services' tests.

The answer is pluggable: ``answer(request_body)`` returns the assistant message content (a dict is sent as
JSON text, as structured outputs do). A test may also queue replies (``then``): an error status, a raw
body, a delay, other content; each request takes the next queued reply, or the answer when none is left.
Every request is kept in ``seen``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeAlias

from .faults import trickle

Answer = Callable[[dict[str, Any]], Any]


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> sent as is; None -> a completion whose content is the answer
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Sends the headers at once, then the body this many seconds later in pieces (a blank every 0.1 s, then
    # the JSON): no single read waits long, so only a bound on the whole attempt notices the delay.
    trickle: float = 0.0
    content: Any = None  # replaces the answer's content in a 200 completion


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class FakeOpenAI:
    Reply: TypeAlias = Reply  # FakeOpenAI.Reply(...) where the module is not imported by name

    def __init__(self, answer: Answer, *, model: str = "gpt-4o-mini-2024-07-18") -> None:
        self.answer = answer
        self.MODEL = model
        self.script: list[Reply] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.seen.append(
                        Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                    )
                    reply = fake.script.pop(0) if fake.script else Reply()
                if reply.delay:
                    time.sleep(reply.delay)
                payload = fake.render(reply, body)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    length, pieces = trickle(payload, reply.trickle, every=0.1)
                    self.send_header("Content-Length", str(length))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    for piece in pieces:
                        self.wfile.write(piece)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @staticmethod
    def error(code: str | None, kind: str, message: str = "fake error") -> dict[str, Any]:
        """An error body as OpenAI sends it (e.g. ``error("insufficient_quota", "insufficient_quota")``)."""
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def then(self, *replies: Reply) -> FakeOpenAI:
        with self._lock:
            self.script.extend(replies)
        return self

    def render(self, reply: Reply, request: dict[str, Any]) -> bytes:
        if isinstance(reply.body, str):
            return reply.body.encode()
        if reply.body is not None:
            return json.dumps(reply.body).encode()
        content = reply.content if reply.content is not None else self.answer(request)
        text = content if isinstance(content, str) else json.dumps(content)
        message = {"role": "assistant", "content": text, "refusal": None}
        return json.dumps(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.MODEL,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500},
            }
        ).encode()


def prompt_text(request: dict[str, Any], role: str = "user") -> str:
    """The text of the request's messages of one role (the prompt an answer is built from)."""
    return "\n".join(str(m.get("content")) for m in request.get("messages", []) if m.get("role") == role)
