"""audit-worker's dependencies, built once per process by ``create_app`` and read by views through ``deps()``."""

from __future__ import annotations

from dataclasses import dataclass

import jobs
import servicekit
from jobs.providers import build_provider

from .adapters.consumer import AuditHandler
from .adapters.notify import Notifier
from .adapters.store import AuditStore, build_store
from .domain.audit import EVENT_TYPES
from .settings import Settings


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    store: AuditStore
    # Both None unless AUDIT_CONSUMER=embedded (then the consumer runs in this process, feeding the store).
    dispatcher: jobs.Dispatcher | None
    consumer: jobs.BackgroundConsumer | None

    def consumer_check(self) -> dict:
        if self.consumer is None:
            return {"mode": "separate process"}
        if not self.consumer.alive():
            raise RuntimeError("the consumer thread is not running")
        return {"mode": "embedded", "provider": self.consumer.dispatcher.provider.name}

    def bus_check(self) -> dict:
        if self.dispatcher is not None:
            self.dispatcher.provider.ping()
        return {}

    def close(self) -> None:
        if self.consumer is not None:
            self.consumer.stop()


def build_dependencies(
    settings: Settings, *, store: AuditStore | None = None, dispatcher: jobs.Dispatcher | None = None
) -> Dependencies:
    """The store, and with AUDIT_CONSUMER=embedded the consumer thread, started here (a start-up step)."""
    store = store or build_store(settings)
    consumer: jobs.BackgroundConsumer | None = None
    if settings.audit_consumer == "embedded":
        if dispatcher is None:
            # A registry and provider (from JOBS_PROVIDER...) of this app's own, so that two apps in one
            # process (tests) give two consumers rather than a clash of handlers.
            dispatcher = jobs.Dispatcher(jobs.JobRegistry(), build_provider())
        AuditHandler(store, Notifier.from_settings(settings)).register(dispatcher.registry)
        consumer = jobs.BackgroundConsumer(dispatcher, EVENT_TYPES, name="audit-consumer")
        consumer.start()
    else:
        dispatcher = None
    return Dependencies(settings=settings, store=store, dispatcher=dispatcher, consumer=consumer)


def deps() -> Dependencies:
    return servicekit.current_dependencies(Dependencies)
