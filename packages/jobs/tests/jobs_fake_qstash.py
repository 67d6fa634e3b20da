"""A small QStash for the tests: the real `qstash` SDK publishes to it over HTTP, and it pushes each
message to its destination signed as QStash documents it (an HS256 JWT in `Upstash-Signature` with
`iss=Upstash`, `sub`=destination URL and `body`=base64url(SHA-256(body))), retrying non-2xx answers
and moving exhausted messages to a DLQ. Its `faults` (testkit.faults) make it misbehave as the real API can:
a publish taken and its answer stalled past the client's timeout, 429 with the burst rate limit's reset, a
500, one payload refused for good (400). It is not part of the product.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field

import jwt
import requests
from testkit.faults import Faults
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def sign(key: str, url: str, body: bytes, *, ttl: int = 300, now: float | None = None) -> str:
    now = int(now or time.time())
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).decode().rstrip("=")
    return jwt.encode(
        {"iss": "Upstash", "sub": url, "exp": now + ttl, "nbf": now, "iat": now, "jti": f"jwt_{now}", "body": digest},
        key,
        algorithm="HS256",
    )


@dataclass
class Message:
    id: str
    url: str
    body: bytes
    headers: dict[str, str]
    retries: int
    retried: int = 0
    created_at: int = field(default_factory=lambda: int(time.time() * 1000))
    response_status: int = 0


class FakeQStash:
    def __init__(
        self,
        current_key: str = "sig_current_0123456789abcdef0123456789",
        next_key: str = "sig_next_0123456789abcdef0123456789abc",
        retry_delay: float = 0.05,
    ):
        self.current_key = current_key
        self.next_key = next_key
        self.retry_delay = retry_delay
        self.token = "qstash-test-token"
        self.down = False
        self.faults = Faults()
        self.published: list[Message] = []  # every message taken (deduplicated publishes are not new ones)
        self.dlq: list[Message] = []
        self.deliveries: list[tuple[str, int]] = []  # (message id, status)
        self._dedup: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeQStash:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    @Request.application
    def _app(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return Response('{"error":"unauthorized"}', 401, mimetype="application/json")
        if self.down:
            return Response('{"error":"unavailable"}', 503, mimetype="application/json")
        if request.method == "POST" and request.path.startswith("/v2/publish/"):
            return self._publish(request)
        if request.method == "GET" and request.path == "/v2/dlq":
            url = request.args.get("url")
            messages = [self._dlq_entry(m) for m in self.dlq if not url or m.url == url]
            return Response(json.dumps({"messages": messages}), mimetype="application/json")
        if request.method == "GET" and request.path == "/v2/keys":
            return Response(
                json.dumps({"current": self.current_key, "next": self.next_key}), mimetype="application/json"
            )
        return Response('{"error":"not found"}', 404, mimetype="application/json")

    def _publish(self, request: Request) -> Response:
        destination = request.full_path.split("/v2/publish/", 1)[1].rstrip("?")
        if self.faults.refuses(request.get_data()):
            return Response('{"error":"invalid destination or body"}', 400, mimetype="application/json")
        if self.faults.throttles():
            reset = str(int(time.time() + self.faults.retry_after))
            headers = {"Burst-RateLimit-Limit": "100", "Burst-RateLimit-Remaining": "0", "Burst-RateLimit-Reset": reset}
            return Response('{"error":"Exceeded burst rate limit"}', 429, headers=headers, mimetype="application/json")
        if self.faults.fails():
            return Response('{"error":"internal server error"}', 500, mimetype="application/json")
        dedup = request.headers.get("Upstash-Deduplication-Id")
        with self._lock:
            if dedup and dedup in self._dedup:
                return Response(
                    json.dumps({"messageId": self._dedup[dedup], "deduplicated": True}),
                    201,
                    mimetype="application/json",
                )
            message_id = f"msg_{next(self._ids)}"
            if dedup:
                self._dedup[dedup] = message_id
        headers = {
            k[len("Upstash-Forward-") :]: v
            for k, v in request.headers.items()
            if k.lower().startswith("upstash-forward-")
        }
        headers["Content-Type"] = request.headers.get("Content-Type", "application/json")
        message = Message(
            message_id, destination, request.get_data(), headers, int(request.headers.get("Upstash-Retries", "3"))
        )
        with self._lock:
            self.published.append(message)
        threading.Thread(target=self._deliver, args=(message,), daemon=True).start()
        self.faults.after_acting()
        return Response(json.dumps({"messageId": message_id}), 201, mimetype="application/json")

    def _deliver(self, message: Message) -> None:
        while True:
            headers = {
                **message.headers,
                "Upstash-Message-Id": message.id,
                "Upstash-Retried": str(message.retried),
                "Upstash-Signature": sign(self.current_key, message.url, message.body),
            }
            try:
                response = requests.post(message.url, data=message.body, headers=headers, timeout=30)
                status, non_retryable = (
                    response.status_code,
                    response.headers.get("Upstash-NonRetryable-Error") == "true",
                )
            except requests.RequestException:
                status, non_retryable = 0, False
            message.response_status = status
            with self._lock:
                self.deliveries.append((message.id, status))
            if 200 <= status < 300:
                return
            if non_retryable or message.retried >= message.retries:
                with self._lock:
                    self.dlq.append(message)
                return
            message.retried += 1
            time.sleep(self.retry_delay * message.retried)

    @staticmethod
    def _dlq_entry(m: Message) -> dict:
        return {
            "messageId": m.id,
            "dlqId": f"dlq_{m.id}",
            "url": m.url,
            "method": "POST",
            "body": m.body.decode(),
            "header": {k: [v] for k, v in m.headers.items()},
            "maxRetries": m.retries,
            "notBefore": 0,
            "createdAt": m.created_at,
            "responseStatus": m.response_status,
        }
