"""The retrying client against a real HTTP server (pytest-httpserver)."""

from __future__ import annotations

import time

import pytest
import requests
from servicekit import HttpClient
from servicekit.http import retry_after_seconds
from werkzeug import Response


def sequence(*responses):
    """A handler that answers with each response in turn, then repeats the last."""
    calls = []

    def handler(request):
        calls.append(dict(request.headers))
        return responses[min(len(calls) - 1, len(responses) - 1)]

    return handler, calls


def client_for(httpserver, **kwargs) -> HttpClient:
    kwargs.setdefault("backoff_base", 0.01)
    return HttpClient(httpserver.url_for("/"), "test-target", **kwargs)


def test_retries_5xx_then_succeeds(httpserver) -> None:
    handler, calls = sequence(Response("no", 503), Response("no", 502), Response('{"ok": true}', 200))
    httpserver.expect_request("/thing").respond_with_handler(handler)
    response = client_for(httpserver).get("/thing")
    assert response.status_code == 200 and len(calls) == 3


def test_honours_retry_after(httpserver) -> None:
    handler, calls = sequence(Response("slow down", 429, headers={"Retry-After": "1"}), Response("ok", 200))
    httpserver.expect_request("/thing").respond_with_handler(handler)
    started = time.perf_counter()
    response = client_for(httpserver).get("/thing")
    assert response.status_code == 200 and len(calls) == 2
    assert time.perf_counter() - started >= 0.95


def test_gives_up_after_max_attempts_and_returns_last_response(httpserver) -> None:
    handler, calls = sequence(Response("down", 500))
    httpserver.expect_request("/thing").respond_with_handler(handler)
    response = client_for(httpserver, max_attempts=3).get("/thing")
    assert response.status_code == 500 and len(calls) == 3


def test_client_errors_are_not_retried(httpserver) -> None:
    handler, calls = sequence(Response("bad", 400))
    httpserver.expect_request("/thing").respond_with_handler(handler)
    assert client_for(httpserver).get("/thing").status_code == 400 and len(calls) == 1


def test_total_time_is_bounded(httpserver) -> None:
    handler, calls = sequence(Response("busy", 503, headers={"Retry-After": "30"}))
    httpserver.expect_request("/thing").respond_with_handler(handler)
    started = time.perf_counter()
    client_for(httpserver, max_attempts=10, max_total_seconds=1.0).get("/thing")
    assert time.perf_counter() - started < 3


def test_connection_errors_are_retried_then_raised() -> None:
    from testkit.servers import free_port

    client = HttpClient(f"http://127.0.0.1:{free_port()}", "nowhere", max_attempts=3, backoff_base=0.01)
    with pytest.raises(requests.ConnectionError):
        client.get("/x")


def test_passes_token_and_request_id(httpserver) -> None:
    from flask import Flask, g

    handler, calls = sequence(Response("ok", 200))
    httpserver.expect_request("/thing").respond_with_handler(handler)
    app = Flask(__name__)
    with app.test_request_context():
        g.request_id = "req-42"
        client_for(httpserver, token_provider=lambda: "tok").get("/thing")
    assert calls[0]["X-Request-Id"] == "req-42"
    assert calls[0]["Authorization"] == "Bearer tok"


def test_attempts_are_counted_per_target_and_outcome(httpserver) -> None:
    from prometheus_client import REGISTRY

    def count(outcome):
        return (
            REGISTRY.get_sample_value(
                "servicekit_http_client_requests_total", {"target": "counted", "outcome": outcome}
            )
            or 0
        )

    handler, _ = sequence(Response("no", 503), Response("ok", 200))
    httpserver.expect_request("/thing").respond_with_handler(handler)
    before = count("retryable_status"), count("success")
    HttpClient(httpserver.url_for("/"), "counted", backoff_base=0.01).get("/thing")
    assert (count("retryable_status"), count("success")) == (before[0] + 1, before[1] + 1)


@pytest.mark.parametrize("value, expected", [("3", 3.0), ("120", 10.0), ("-1", 0.0), ("soon", None)])
def test_retry_after_parsing(value, expected) -> None:
    response = requests.Response()
    response.headers["Retry-After"] = value
    assert retry_after_seconds(response, cap=10.0) == expected


def test_on_retry_is_called_once_per_retry(httpserver) -> None:
    handler, calls = sequence(Response("no", 503), Response("no", 502), Response("ok", 200))
    httpserver.expect_request("/thing").respond_with_handler(handler)
    retries = []
    client_for(httpserver, on_retry=lambda state: retries.append(state.attempt_number)).get("/thing")
    assert len(calls) == 3 and retries == [1, 2]


def test_each_attempt_tells_the_callee_how_long_it_will_wait(httpserver) -> None:
    handler, calls = sequence(Response("busy", 503), Response("ok", 200))
    httpserver.expect_request("/thing").respond_with_handler(handler)
    assert client_for(httpserver, timeout=2.5, max_total_seconds=10).get("/thing").status_code == 200
    budgets = [int(headers["X-Request-Timeout-Ms"]) for headers in calls]
    assert len(budgets) == 2 and all(0 < ms <= 2500 for ms in budgets)


def test_a_call_made_while_serving_a_request_fits_in_what_its_caller_still_waits(httpserver) -> None:
    """The caller gave 300 ms: the onward call is cut to them, though its own timeout is 5 s."""
    from flask import Flask, g
    from servicekit.http import request_remaining_seconds

    def slow(request):
        time.sleep(1.0)
        return Response("late", 200)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    app = Flask(__name__)
    seen = {}

    @app.get("/chain")
    def chain():
        g.started = time.perf_counter()
        seen["remaining"] = request_remaining_seconds()
        started = time.perf_counter()
        try:
            client_for(httpserver, timeout=5.0, max_attempts=3, max_total_seconds=20).get("/slow")
        except requests.Timeout:
            seen["gave_up_after"] = time.perf_counter() - started
        return "done"

    assert app.test_client().get("/chain", headers={"X-Request-Timeout-Ms": "300"}).status_code == 200
    assert 0.2 < seen["remaining"] <= 0.3
    assert seen["gave_up_after"] < 0.6


def test_without_the_header_there_is_no_upstream_deadline() -> None:
    from flask import Flask
    from servicekit.http import request_remaining_seconds

    app = Flask(__name__)
    with app.test_request_context("/"):
        assert request_remaining_seconds() is None
    with app.test_request_context("/", headers={"X-Request-Timeout-Ms": "not-a-number"}):
        assert request_remaining_seconds() is None
    assert request_remaining_seconds() is None  # outside a request
