"""Prometheus metrics: per-route HTTP metrics (prometheus-flask-exporter's names and labels) plus labelled
domain metrics.

Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` is set by the shared gunicorn configuration before any
worker starts, and every worker writes its samples there, so one scrape sees all workers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

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


def _metric(kind: type, name: str, documentation: str, labelnames: Sequence[str], **kwargs: object):
    existing = _domain.get(name)
    if existing is None:
        existing = kind(name, documentation, labelnames=tuple(labelnames), **kwargs)
        _domain[name] = existing
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

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        if method not in _METHODS:
            method = "other"  # any word is a method to a client: the label set stays bounded
        key = (method, endpoint, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.duration.labels(method, endpoint, str(status), self.service),
                self.total.labels(method, str(status), self.service),
            )
            self._children[key] = children
        children[0].observe(seconds)
        children[1].inc()


def setup_metrics(app: Flask, service: str) -> HttpMetrics:
    # Each app gets its own registry for the HTTP metrics, so tests can build many apps in one process.
    app_registry = CollectorRegistry(auto_describe=True)
    metrics = HttpMetrics(app_registry, service)
    app.extensions["servicekit.http_metrics"] = metrics

    @endpoint(summary="Prometheus metrics of every worker", media_type="text/plain")
    def render() -> Response:
        if multiprocess_dir():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            body = generate_latest(registry)
        else:
            body = generate_latest(REGISTRY) + generate_latest(app_registry)
        # CONTENT_TYPE_LATEST already names its charset; as a mimetype Flask would append a second one.
        return Response(body, content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "servicekit.metrics", render, methods=["GET"])
    return metrics
