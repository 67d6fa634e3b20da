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
