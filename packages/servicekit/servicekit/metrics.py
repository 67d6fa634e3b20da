"""Prometheus metrics: per-route HTTP metrics (prometheus-flask-exporter's names and labels) plus labelled
domain metrics.

Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` is set by the shared gunicorn configuration before any
worker starts, and every worker writes its samples there, so one scrape sees all workers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, TypeVar

from flask import Flask, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from .validation import endpoint

_domain: dict[str, object] = {}
_Metric = TypeVar("_Metric", Counter, Histogram, Gauge)


def _metric(kind: type[_Metric], name: str, documentation: str, labelnames: Sequence[str], **kwargs: Any) -> _Metric:
    existing = _domain.get(name)
    if existing is None:
        existing = kind(name, documentation, labelnames=tuple(labelnames), **kwargs)
        _domain[name] = existing
    if not isinstance(existing, kind):
        raise TypeError(f"metric {name} is a {type(existing).__name__}, not a {kind.__name__}")
    return existing


def counter(name: str, documentation: str, labelnames: Sequence[str] = ()) -> Counter:
    """A domain counter, created once per process however many apps are built."""
    return _metric(Counter, name, documentation, labelnames)


def histogram(
    name: str, documentation: str, labelnames: Sequence[str] = (), buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS
) -> Histogram:
    return _metric(Histogram, name, documentation, labelnames, buckets=tuple(buckets))


def gauge(name: str, documentation: str, labelnames: Sequence[str] = (), multiprocess_mode: str = "livesum") -> Gauge:
    return _metric(Gauge, name, documentation, labelnames, multiprocess_mode=multiprocess_mode)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    """The HTTP metrics prometheus-flask-exporter exported, under the same names and labels (dashboards and
    alerts query them), observed by servicekit's request layer. Label children are kept per label values:
    looking one up costs more than the observation itself."""

    def __init__(self, registry: CollectorRegistry, service: str):
        self.registry = registry
        self.service = service
        self.duration = Histogram(
            "flask_http_request_duration_seconds",
            "Flask HTTP request duration in seconds",
            ("method", "endpoint", "status", "service"),
            registry=registry,
        )
        self.total = Counter(
            "flask_http_request_total",
            "Total number of HTTP requests",
            ("method", "status", "service"),
            registry=registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.routes_at_zero = False

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        if method not in _METHODS:
            method = "other"  # any word is a method to a client: the label set stays bounded
        children = self._children.get((method, endpoint, status)) or self._child(method, endpoint, status)
        children[0].observe(seconds)
        children[1].inc()

    def _child(self, method: str, endpoint: str, status: int) -> tuple[Any, Any]:
        children = (
            self.duration.labels(method, endpoint, str(status), self.service),
            self.total.labels(method, str(status), self.service),
        )
        self._children[(method, endpoint, status)] = children
        return children

    def start_routes_at_zero(self, app: Flask) -> None:
        """Every route's success statuses (those its endpoint declares below 400) at zero, so that rate() and
        increase() count a route's first request too: a series born at 1 has no earlier sample to rise from.
        Error statuses are not known in advance and stay created by their first request. Called at the first
        request, when every blueprint is registered."""
        self.routes_at_zero = True
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "servicekit.metrics":
                continue  # not observed
            spec = getattr(app.view_functions.get(rule.endpoint), "__endpoint_spec__", None)
            statuses = [s for s in (spec.responses if spec else {200: None}) if s < 400]
            for method in sorted((rule.methods or set()) & _METHODS - {"HEAD", "OPTIONS"}):
                for status in statuses:
                    if (method, rule.endpoint, status) not in self._children:
                        self._child(method, rule.endpoint, status)


def setup_metrics(app: Flask, service: str) -> HttpMetrics:
    # Each app gets its own registry for the HTTP metrics, so tests can build many apps in one process.
    app_registry = CollectorRegistry(auto_describe=True)
    metrics = HttpMetrics(app_registry, service)
    app.extensions["servicekit.http_metrics"] = metrics

    @endpoint(summary="Prometheus metrics of every worker", media_type="text/plain")
    def render() -> Response:
        if multiprocess_dir():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated upstream
            body = generate_latest(registry)
        else:
            body = generate_latest(REGISTRY) + generate_latest(app_registry)
        # CONTENT_TYPE_LATEST already names its charset; as a mimetype Flask would append a second one.
        return Response(body, content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "servicekit.metrics", render, methods=["GET"])
    return metrics
