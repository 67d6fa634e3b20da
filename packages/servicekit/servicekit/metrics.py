"""Prometheus metrics: HTTP metrics from prometheus-flask-exporter plus labelled domain metrics.

Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` is set by the shared gunicorn configuration before any
worker starts, and every worker writes its samples there, so one scrape sees all workers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

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
from prometheus_flask_exporter import PrometheusMetrics

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


def setup_metrics(app: Flask, service: str) -> PrometheusMetrics:
    # Each app gets its own registry for the HTTP metrics, so tests can build many apps in one process.
    app_registry = CollectorRegistry(auto_describe=True)
    metrics = PrometheusMetrics(
        app,
        registry=app_registry,
        path=None,
        group_by="endpoint",
        default_labels={"service": service},
        excluded_paths=["/metrics"],
    )

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
