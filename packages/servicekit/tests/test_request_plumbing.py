"""What every request gets from servicekit's request layer: one access line, per-route metrics, the request id."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from prometheus_client import CollectorRegistry, generate_latest


def _access_lines(settings) -> list[dict]:
    lines = [json.loads(line) for line in (settings.log_dir / "sample.log").read_text().splitlines()]
    return [entry for entry in lines if entry["logger"] == "servicekit.access"]


def _samples(app, name: str) -> dict[frozenset, float]:
    return _samples_of(app.extensions["servicekit.http_metrics"].registry, name)


def _samples_of(registry, name: str) -> dict[frozenset, float]:
    body = generate_latest(registry).decode()
    return {
        frozenset(re.findall(r'(\w+)="([^"]*)"', labels)): float(value)
        for labels, value in re.findall(rf"^{name}\{{([^}}]*)\}} (\S+)$", body, re.M)
    }


def _labels(**labels: str) -> frozenset:
    return frozenset({**labels, "service": "sample"}.items())


def test_one_access_line_per_request_with_route_and_duration(app, client, auth, settings) -> None:
    item = uuid.uuid4()
    response = client.get(f"/items/{item}", headers={**auth, "X-Request-ID": "req-1"})
    assert response.status_code == 404
    client.get("/healthz")
    [line] = _access_lines(settings)
    assert line["request_id"] == "req-1" and line["level"] == "info" and line["service"] == "sample"
    assert line["method"] == "GET" and line["path"] == f"/items/{item}" and line["status"] == 404
    assert line["route"] == "/items/<uuid:item_id>"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_a_refused_token_is_logged_and_counted_with_its_request_id(app, client, settings) -> None:
    response = client.get("/items")
    assert response.status_code == 401
    request_id = response.headers["X-Request-ID"]
    assert response.get_json()["request_id"] == request_id
    [line] = _access_lines(settings)
    assert line["status"] == 401 and line["request_id"] == request_id
    counts = _samples(app, "flask_http_request_duration_seconds_count")
    assert counts[_labels(method="GET", endpoint="list_items", status="401")] == 1


def test_latency_histogram_is_per_route_and_skips_metrics_scrapes(app, client, auth) -> None:
    for _ in range(3):
        client.get("/items", headers=auth)
    client.get("/nowhere", headers=auth)
    client.get("/metrics")
    counts = _samples(app, "flask_http_request_duration_seconds_count")
    assert counts[_labels(method="GET", endpoint="list_items", status="200")] == 3
    assert counts[_labels(method="GET", endpoint="None", status="404")] == 1
    assert not any(("endpoint", "servicekit.metrics") in labels for labels in counts)
    totals = _samples(app, "flask_http_request_total")
    assert totals[_labels(method="GET", status="200")] == 3


def test_every_route_s_success_status_is_at_zero_from_the_first_request(app, client, auth) -> None:
    """A series born at 1 has no earlier sample: rate() and increase() would not see the request that made it."""
    client.get("/healthz")
    counts = _samples(app, "flask_http_request_duration_seconds_count")
    assert counts[_labels(method="GET", endpoint="list_items", status="200")] == 0
    assert counts[_labels(method="GET", endpoint="servicekit.healthz", status="200")] == 1
    assert not any(("endpoint", "servicekit.metrics") in labels for labels in counts)
    # Error statuses are not known in advance: none is made up.
    assert not [labels for labels in counts if dict(labels)["status"] >= "400"]
    client.get("/items", headers=auth)
    assert (
        _samples(app, "flask_http_request_duration_seconds_count")[
            _labels(method="GET", endpoint="list_items", status="200")
        ]
        == 1
    )


def test_unknown_methods_share_one_label(app, client, auth) -> None:
    client.open("/items", method="BREW", headers=auth)
    client.open("/items", method="PROPFIND", headers=auth)
    counts = _samples(app, "flask_http_request_duration_seconds_count")
    assert counts[_labels(method="other", endpoint="None", status="405")] == 2


def test_an_error_escaping_the_app_is_still_logged_once(settings) -> None:
    from servicekit.app import RequestPlumbing
    from servicekit.logs import configure_logging
    from servicekit.metrics import HttpMetrics

    configure_logging("sample", "INFO", settings.log_dir)

    def failing(environ, start_response):
        raise RuntimeError("escaped")

    plumbing = RequestPlumbing(failing, HttpMetrics(CollectorRegistry(), "sample"))
    with pytest.raises(RuntimeError):
        plumbing({"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "HTTP_X_REQUEST_ID": "req-9"}, lambda *a: None)
    [line] = _access_lines(settings)
    assert line["status"] == 500 and line["path"] == "/x" and line["request_id"] == "req-9"
    assert _samples_of(plumbing.metrics.registry, "flask_http_request_total") == {
        _labels(method="GET", status="500"): 1
    }


def test_the_access_line_is_the_line_logging_would_write(app, settings) -> None:
    """The access line skips the logging machinery; what it writes must not differ from what the
    servicekit.access logger writes with the same fields, escaping included."""
    import logging

    from servicekit.logs import write_access_line

    path = '/items/caf\u00e9 "quoted" \\ back\nslash'
    write_access_line("GET", path, "/items/<x>", 200, 1.25, "req-fast")
    logging.getLogger("servicekit.access").info(
        "%s %s %s",
        "GET",
        path,
        200,
        extra={
            "request_id": "req-slow",
            "method": "GET",
            "path": path,
            "route": "/items/<x>",
            "status": 200,
            "duration_ms": 1.25,
        },
    )
    write_access_line("POST", "/x", None, 404, 0.0, "req-none")
    raw = (settings.log_dir / "sample.log").read_text().splitlines()
    fast, slow, unmatched = (json.loads(line) for line in raw[-3:])
    assert list(fast) == list(slow), "same fields, same order"
    assert {**fast, "request_id": None, "ts": None} == {**slow, "request_id": None, "ts": None}
    assert fast["path"] == path and fast["message"] == f"GET {path} 200" and fast["level"] == "info"
    assert all(ord(ch) < 128 for ch in raw[-3]), "escaped like json.dumps, one physical line"
    assert unmatched["route"] is None and unmatched["status"] == 404


def test_the_access_line_follows_the_level_of_its_logger(app, client, auth, settings) -> None:
    import logging

    access = logging.getLogger("servicekit.access")
    access.setLevel(logging.WARNING)
    try:
        client.get("/items", headers={**auth, "X-Request-ID": "req-quiet"})
    finally:
        access.setLevel(logging.NOTSET)
    client.get("/items", headers={**auth, "X-Request-ID": "req-loud"})
    ids = [line["request_id"] for line in _access_lines(settings)]
    assert ids == ["req-loud"]


def test_request_ids_differ_between_forked_workers() -> None:
    """Request ids come from a generator of servicekit's own, reseeded in every forked process: two gunicorn
    workers forked from one master must not hand out the same ids."""
    import os

    from servicekit.app import _new_request_id

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a worker's first ids
        os.write(write, " ".join(_new_request_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 4096).decode().split()
    os.close(read)
    parent = [_new_request_id() for _ in range(3)]
    assert len(child) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in child + parent)
    assert not set(child) & set(parent)


def test_request_ids_do_not_follow_the_global_random_seed() -> None:
    import random

    from servicekit.app import _new_request_id

    random.seed(42)
    first = _new_request_id()
    random.seed(42)
    assert _new_request_id() != first
