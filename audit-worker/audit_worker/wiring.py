"""audit-worker's dependencies, built once per process by ``create_app`` and read by views through ``deps()``.

``build_dependencies`` only builds: no thread, no connection, no write (the store's clients connect at their first
use, and the embedded consumer is built idle). ``background(deps)`` lists what runs beside requests, which
``create_app`` starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jobs
import servicekit
from jobs.providers import build_provider
from servicekit import Lifecycle

from .adapters.notify import Notifier
from .adapters.stores import build_store
from .adapters.unit_of_work import AuditStore, AuditUnitOfWork
from .background.event_consumer import AuditHandler, EmbeddedConsumer
from .settings import Settings


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    store: AuditStore
    # None unless AUDIT_CONSUMER=embedded (then the consumer runs in this process, feeding the store it serves).
    consumer: EmbeddedConsumer | None

    def uow(self) -> AuditUnitOfWork:
        """A fresh unit of work (one per use case call)."""
        return self.store.unit_of_work()

    def consumer_check(self) -> dict[str, Any]:
        if self.consumer is None:
            return {"mode": "separate process"}
        if not self.consumer.alive():
            raise RuntimeError("the consumer thread is not running")
        return {"mode": "embedded", "provider": self.consumer.dispatcher.provider.name}

    def bus_check(self) -> dict[str, Any]:
        if self.consumer is not None:
            self.consumer.dispatcher.provider.ping()
        return {}


def build_dependencies(
    settings: Settings, *, store: AuditStore | None = None, dispatcher: jobs.Dispatcher | None = None
) -> Dependencies:
    """The store, and with AUDIT_CONSUMER=embedded the consumer (idle until the lifecycle starts it) on
    ``dispatcher``, or on a dispatcher of its own for the provider JOBS_PROVIDER names."""
    store = store or build_store(settings)
    consumer: EmbeddedConsumer | None = None
    if settings.audit_consumer == "embedded":
        consumer = EmbeddedConsumer(
            dispatcher or jobs.Dispatcher(jobs.JobRegistry(), build_provider()),
            AuditHandler(store.unit_of_work, Notifier.from_settings(settings)),
        )
    return Dependencies(settings=settings, store=store, consumer=consumer)


def background(deps: Dependencies) -> Lifecycle:
    """The embedded consumer, not started; nothing with AUDIT_CONSUMER=off (consumers then run in
    ``python -m audit_worker.consumer``)."""
    return Lifecycle(deps.consumer) if deps.consumer is not None else Lifecycle()


def deps() -> Dependencies:
    dependencies: Dependencies = servicekit.current_dependencies(Dependencies)
    return dependencies
