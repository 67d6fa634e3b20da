"""Record a fleet event in the audit trail, once, and notify its driver, once.

Idempotent on the event id: the store's unique eventId decides, whatever the redeliveries. The notification goes
out after the document is stored and is marked sent afterwards, so a failure to notify (SMTP down) raises, the bus
redelivers, and the retry notifies without a second document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from ..adapters.unit_of_work import AuditUnitOfWork
from ..domain.audit import FleetEvent, audit_document, notification
from ..metrics import LAG, RECORDED

# The name the audit's lines have always been logged under.
log = logging.getLogger("audit_worker.consumer")


class DriverNotifier(Protocol):
    def notify(
        self, event_type: str, driver_id: str, load_id: str, subject: str, body: str, request_id: str | None = None
    ) -> None:
        """Raises when the notification could not be handed over."""
        ...


def record_event(
    uow: AuditUnitOfWork,
    notifier: DriverNotifier,
    event_id: str,
    event: FleetEvent,
    *,
    request_id: str | None,
    clock: Callable[[], datetime],
) -> None:
    """``request_id``: the fleet-api request that caused the event, when it came with one."""
    with uow:
        document, new = uow.events.record(audit_document(event_id, event, clock(), request_id))
        uow.commit()
    RECORDED.labels(event.type, "new" if new else "duplicate").inc()
    # The bus runs this in the event's request-id context, so the line carries that id.
    log.info(
        "audit event %s",
        "recorded" if new else "already recorded",
        extra={"event_id": event_id, "event_type": event.type, "load_id": str(event.load_id)},
    )
    if new:
        LAG.observe(max((clock() - event.occurred_at).total_seconds(), 0.0))
    if document.get("notifiedAt") is None:
        subject, body = notification(event)
        notifier.notify(event.type, str(event.driver_id), str(event.load_id), subject, body, request_id)
        with uow:
            uow.events.mark_notified(event_id, clock())
            uow.commit()
