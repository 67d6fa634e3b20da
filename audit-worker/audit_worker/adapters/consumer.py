"""Fleet events in, audit documents out: the handler the bus feeds (jobs.BackgroundConsumer runs it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import jobs
from jobs.spi import REQUEST_ID_ATTRIBUTE
from servicekit import counter, histogram

from ..domain.audit import EVENT_TYPES, FleetEvent, audit_document, notification
from .notify import Notifier
from .store import AuditStore

log = logging.getLogger("audit_worker.consumer")
_recorded = counter(
    "audit_events_recorded_total", "Fleet events seen by the audit, new or duplicate", ["type", "outcome"]
)
_lag = histogram(
    "audit_event_lag_seconds",
    "From the event's occurred_at in fleet-api to its audit document being stored (new documents only)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
for _type in EVENT_TYPES:
    for _outcome in ("new", "duplicate"):
        _recorded.labels(_type, _outcome)


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
        request_id = context.attributes.get(REQUEST_ID_ATTRIBUTE)
        document, new = self.store.record(audit_document(context.id, event, self.clock(), request_id))
        _recorded.labels(event.type, "new" if new else "duplicate").inc()
        # The dispatcher runs this handler in the event's request-id context, so the line carries that id.
        log.info(
            "audit event %s",
            "recorded" if new else "already recorded",
            extra={"event_id": context.id, "event_type": event.type, "load_id": str(event.load_id)},
        )
        if new:
            _lag.observe(max((self.clock() - event.occurred_at).total_seconds(), 0.0))
        if document.get("notifiedAt") is None:
            subject, body = notification(event)
            self.notifier.notify(event.type, str(event.driver_id), str(event.load_id), subject, body, request_id)
            self.store.mark_notified(context.id, self.clock())

    def register(self, registry: jobs.JobRegistry) -> None:
        for event_type in EVENT_TYPES:
            registry.register(event_type, FleetEvent, self, description=f"Audit {event_type}")
