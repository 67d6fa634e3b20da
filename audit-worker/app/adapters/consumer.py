"""Fleet events in, audit documents out: the handler and the thread that feeds it from the bus."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import jobs
from servicekit import counter

from ..domain.audit import EVENT_TYPES, FleetEvent, audit_document, notification
from .notify import Notifier
from .store import AuditStore

log = logging.getLogger("audit_worker.consumer")
_recorded = counter("audit_events_recorded_total", "Fleet events seen by the audit, new or duplicate",
                    ["type", "outcome"])


class AuditHandler:
    """Idempotent on the event id: the store's unique eventId decides, whatever the redeliveries.

    The notification goes out after the document is stored and is marked sent afterwards, so a
    failure to notify (SMTP down) raises, the bus redelivers, and the retry notifies without a
    second document.
    """

    def __init__(self, store: AuditStore, notifier: Notifier, clock: Callable[[], datetime] | None = None):
        self.store = store
        self.notifier = notifier
        self.clock = clock or (lambda: datetime.now(UTC))

    def __call__(self, event: FleetEvent, context: jobs.JobContext) -> None:
        document, new = self.store.record(audit_document(context.id, event, self.clock()))
        _recorded.labels(event.type, "new" if new else "duplicate").inc()
        if document.get("notifiedAt") is None:
            subject, body = notification(event)
            self.notifier.notify(event.type, str(event.driver_id), str(event.load_id), subject, body)
            self.store.mark_notified(context.id, self.clock())

    def register(self, registry: jobs.JobRegistry) -> None:
        for event_type in EVENT_TYPES:
            registry.register(event_type, FleetEvent, self, description=f"Audit {event_type}")


class ConsumerThread:
    """Runs the provider's consume loop in a daemon thread, restarting it after a bus failure."""

    def __init__(self, dispatcher: jobs.Dispatcher, job_types=EVENT_TYPES, restart_delay: float = 2.0):
        self.dispatcher = dispatcher
        self.job_types = tuple(job_types)
        self.restart_delay = restart_delay
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ConsumerThread:
        self._thread = threading.Thread(target=self._run, name="audit-consumer", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        provider = self.dispatcher.provider
        while not self.stop_event.is_set():
            try:
                provider.provision(self.job_types)
                log.info("consuming %s from %s", ", ".join(self.job_types), provider.name)
                provider.consume(self.job_types, self.dispatcher.deliver, self.stop_event)
            except Exception as exc:  # noqa: BLE001 - whatever the bus client raised: wait, consume again
                log.warning("consumer stopped by %s: %s; restarting in %.0fs", type(exc).__name__, exc,
                            self.restart_delay)
                self.stop_event.wait(self.restart_delay)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
