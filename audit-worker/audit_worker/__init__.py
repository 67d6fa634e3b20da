"""audit-worker: Consumes fleet events and keeps the audit trail; serves it, health and metrics."""

from __future__ import annotations

import jobs
from flask import Flask
from jobs.providers import build_provider
from servicekit import create_app as create_service_app
from servicekit import load_settings

from .adapters.consumer import AuditHandler
from .adapters.notify import Notifier
from .adapters.store import AuditStore, build_store
from .api import register_blueprints
from .domain.audit import EVENT_TYPES
from .settings import Settings


def create_app(
    settings: Settings | None = None, *, store: AuditStore | None = None, dispatcher: jobs.Dispatcher | None = None
) -> Flask:
    """With AUDIT_CONSUMER=embedded the consumer runs in this process, feeding the store it serves."""
    settings = settings or load_settings(Settings)
    store = store or build_store(settings)
    consumer: jobs.BackgroundConsumer | None = None
    if settings.audit_consumer == "embedded":
        if dispatcher is None:
            # An app of its own registry and provider (from JOBS_PROVIDER...), so that building the app
            # twice in one process (tests) gives two consumers rather than a clash of handlers.
            dispatcher = jobs.Dispatcher(jobs.JobRegistry(), build_provider())
        AuditHandler(store, Notifier.from_settings(settings)).register(dispatcher.registry)
        consumer = jobs.BackgroundConsumer(dispatcher, EVENT_TYPES, name="audit-consumer")

    def consumer_check() -> dict:
        if consumer is None:
            return {"mode": "separate process"}
        if not consumer.alive():
            raise RuntimeError("the consumer thread is not running")
        return {"mode": "embedded", "provider": consumer.dispatcher.provider.name}

    def bus_check() -> dict:
        if dispatcher is not None:
            dispatcher.provider.ping()
        return {}

    app = create_service_app(
        settings,
        import_name=__name__,
        title="audit-worker",
        readiness={"store": store.ping, "consumer": consumer_check, "event_bus": bus_check},
    )
    app.extensions["audit_store"] = store
    app.extensions["audit_consumer"] = consumer
    register_blueprints(app, settings)
    if consumer is not None:
        consumer.start()
    return app
