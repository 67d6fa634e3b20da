"""Fleet events in, audit documents out: the bus's handler (each delivery one call of usecases/record_event.py) and
the consumer thread that feeds it inside the web process (AUDIT_CONSUMER=embedded)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import jobs
from jobs.spi import REQUEST_ID_ATTRIBUTE

from ..adapters.unit_of_work import UnitOfWorkFactory
from ..domain.audit import EVENT_TYPES, FleetEvent
from ..usecases.record_event import DriverNotifier, record_event


def _now() -> datetime:
    return datetime.now(UTC)


class AuditHandler:
    """The handler of every fleet event type; a fresh unit of work each delivery (deliveries may run at once)."""

    def __init__(
        self, uow: UnitOfWorkFactory, notifier: DriverNotifier, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.uow = uow
        self.notifier = notifier
        self.clock = clock or _now

    def __call__(self, event: FleetEvent, context: jobs.JobContext) -> None:
        request_id = context.attributes.get(REQUEST_ID_ATTRIBUTE)
        record_event(self.uow(), self.notifier, context.id, event, request_id=request_id, clock=self.clock)

    def register(self, registry: jobs.JobRegistry) -> None:
        for event_type in EVENT_TYPES:
            registry.register(event_type, FleetEvent, self, description=f"Audit {event_type}")


class EmbeddedConsumer:
    """The consumer thread of the web process: built idle, started and stopped by the lifecycle."""

    def __init__(self, dispatcher: jobs.Dispatcher, handler: AuditHandler) -> None:
        # A registry and dispatcher of this consumer's own, so that two apps in one process (tests) give two
        # consumers rather than a clash of handlers.
        handler.register(dispatcher.registry)
        self.dispatcher = dispatcher
        self._consumer = jobs.BackgroundConsumer(dispatcher, EVENT_TYPES, name="audit-consumer")

    def start(self) -> None:
        self._consumer.start()

    def close(self) -> None:
        self._consumer.stop()

    def alive(self) -> bool:
        return self._consumer.alive()
