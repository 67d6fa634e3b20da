"""Fixtures of gpt-service's tests: sample loads, settings, and a fake OpenAI server over real HTTP."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from gpt_service import create_app
from gpt_service.settings import Settings
from servicekit import issue_token, service_token

JWT_SECRET = "test-secret-of-gpt-service-0123456789"
CITIES = [
    "Dallas, TX",
    "Atlanta, GA",
    "Chicago, IL",
    "Memphis, TN",
    "Denver, CO",
    "Phoenix, AZ",
    "Columbus, OH",
    "Charlotte, NC",
    "Laredo, TX",
    "Kansas City, MO",
    "Nashville, TN",
    "Reno, NV",
]


def sample_loads(count: int, seed: int = 7, start: datetime | None = None) -> list[dict[str, Any]]:
    """Loads as automation-service sends them: two portals, some without price or miles."""
    rnd = random.Random(seed)
    start = start or datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    loads = []
    for i in range(count):
        origin, destination = rnd.sample(CITIES, 2)
        miles = None if i % 5 == 0 else rnd.randint(150, 1500)
        rate = rnd.uniform(1.6, 3.4)
        price = None if i % 11 == 0 else round((miles or 700) * rate, 2)
        loads.append(
            {
                "portal": "jbhunt" if i % 2 else "landstar",
                "load_id": f"L{1000 + i}",
                "origin": origin,
                "destination": destination,
                "price": price,
                "currency": "USD",
                "posted_at": (start + timedelta(minutes=23 * i)).isoformat(),
                "eta": (start + timedelta(days=2, minutes=23 * i)).isoformat(),
                "equipment": rnd.choice(["Dry Van", "Reefer", "Flatbed"]),
                "weight_lbs": rnd.randint(5000, 44000),
                "miles": miles,
            }
        )
    return loads


@pytest.fixture()
def loads() -> list[dict[str, Any]]:
    return sample_loads(40)


@pytest.fixture()
def many_loads() -> Callable[[int], list[dict[str, Any]]]:
    return sample_loads


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> sent as is; None -> a valid answer built from the request
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Sends the headers at once, then the body this many seconds later in pieces (a blank every 0.1 s, then
    # the JSON): no single read waits long, so only a bound on the whole attempt notices the delay.
    trickle: float = 0.0
    content: Any = None  # replaces the assistant message content of a 200 answer


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


def valid_answer(request: dict[str, Any]) -> dict[str, Any]:
    """What a well-behaved model answers: notes for the loads listed in the LOADS table."""
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    table = user.split("LOADS (", 1)[1].splitlines()[2:]
    notes = []
    for row in table:
        cells = row.split("|")
        if len(cells) >= 2:
            notes.append({"portal": cells[0], "load_id": cells[1], "score": 0.9, "note": f"model note on {cells[1]}"})
    return {
        "summary": "Dry van rates are firm on the Texas lanes.",
        "insights": ["Dallas, TX lanes pay best.", "Book early postings."],
        "price_trends": [{"lane": None, "direction": "up", "change_pct": 4.2, "detail": "Later postings pay more."}],
        "route_suggestions": [{"lane": "Dallas, TX -> Atlanta, GA", "reason": "Best rate.", "rate_per_mile": 2.9}],
        "notes": notes,
    }


class FakeOpenAI:
    """A local OpenAI-compatible server for /v1/chat/completions, answering a script of replies."""

    MODEL = "gpt-4o-mini-2024-07-18"
    Reply = Reply

    @staticmethod
    def error(code: str | None, kind: str, message: str = "fake error") -> dict[str, Any]:
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}

    def __init__(self) -> None:
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
                    blanks = int(reply.trickle / 0.1)
                    self.send_header("Content-Length", str(len(payload) + blanks))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    for _ in range(blanks):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.1)
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def render(self, reply: Reply, request: dict[str, Any]) -> bytes:
        if isinstance(reply.body, str):
            return reply.body.encode()
        if reply.body is not None:
            return json.dumps(reply.body).encode()
        content = reply.content if reply.content is not None else valid_answer(request)
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

    def then(self, *replies: Reply) -> FakeOpenAI:
        self.script.extend(replies)
        return self


@pytest.fixture()
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": JWT_SECRET,
        "openai_timeout_seconds": 2.0,
        "redis_url": None,
        "openai_retry_after_max_seconds": 2.0,
        "openai_deadline_seconds": 8.0,
        "openai_retry_backoff_seconds": 0.05,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture()
def settings_for(fake_openai: FakeOpenAI) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        defaults = {"openai_api_key": "sk-test", "openai_base_url": fake_openai.base_url}
        return make_settings(**{**defaults, **overrides})

    return build


@pytest.fixture()
def client_for() -> Callable[[Settings], Any]:
    def build(settings: Settings):
        return create_app(settings).test_client()

    return build


@pytest.fixture()
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {service_token(make_settings())}"}


@pytest.fixture()
def user_auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(make_settings(), 'dispatcher@example.com')[0]}"}
