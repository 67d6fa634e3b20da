"""Local fakes of the outside APIs bakery-service drives, served over real HTTP by pytest-httpserver.

Each speaks the vendor's documented request and response shapes for the calls the adapters make, checks the
credentials the way the vendor does, keeps state (tickets, users, documents, collaborators) so that tests assert
on effects, can answer the next call with a failure (``fail_next``), and misbehaves as its ``faults``
(testkit.faults) say: times out after acting, answers 429 with Retry-After, answers a 5xx, lags its search,
refuses one payload for good.
"""

from __future__ import annotations

import json
import logging
import time

from pytest_httpserver import HTTPServer
from testkit.faults import Faults, trickle
from werkzeug import Request, Response


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def fail_next(
    server: HTTPServer, uri, *, status: int = 500, body=None, headers: dict | None = None, delay: float = 0.0
) -> None:
    """The next request to ``uri`` (a path or a compiled pattern) gets ``status`` (after ``delay`` seconds: a
    delay longer than the client's timeout is a timeout)."""

    def handler(request: Request) -> Response:
        if delay:
            time.sleep(delay)
        return json_response(body if body is not None else {"message": "failure injected"}, status, headers)

    server.expect_oneshot_request(uri).respond_with_handler(handler)


def trickled(response: Response, seconds: float, *, every: float = 0.05) -> Response:
    """``response`` sent a byte at a time over ``seconds`` (leading blanks, which JSON ignores, then the body):
    each byte comes well within any client's read timeout, so the call ends only when the whole answer has."""
    length, pieces = trickle(response.get_data(), seconds, every=every)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    headers["Content-Length"] = str(length)
    return Response(pieces, status=response.status_code, headers=headers, direct_passthrough=True)


def assert_secret_hidden(secret: str, caplog, error: BaseException | None = None) -> None:
    """``secret`` is in no log record and in no message of the error or the errors it was raised from."""
    for record in caplog.records:
        assert secret not in record.getMessage(), record.name
        assert secret not in json.dumps(record.__dict__, default=str), record.name
    while error is not None:
        assert secret not in str(error)
        assert secret not in repr(error)
        error = error.__cause__ or error.__context__


def capture_everything(caplog) -> None:
    caplog.set_level(logging.DEBUG)


def injected(faults: Faults, payload, *, refused: Response, throttled_body=None, failed_body=None) -> Response | None:
    """The answer a fault gives before the fake acts (a refusal, a 429, a 5xx), or None to go on."""
    if payload is not None and faults.refuses(payload):
        return refused
    if faults.throttles():
        body = throttled_body if throttled_body is not None else {"message": "rate limited"}
        return json_response(body, 429, {"Retry-After": str(faults.retry_after)})
    if faults.fails():
        return json_response(failed_body if failed_body is not None else {"message": "internal error"}, 503)
    return None
