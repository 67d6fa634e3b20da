"""Events leave through the jobs outbox: a row in ``fleet.job_outbox``, written in the transaction of
the change (``uow.outbox.add``), and published by the relay (``python -m fleet_api.relay``) to whatever bus
``JOBS_PROVIDER`` names (Redis Streams locally, Pub/Sub in compose)."""

from __future__ import annotations

from jobs import JobRegistry
from jobs.outbox import DEFAULT_CHANNEL, enqueue
from sqlalchemy import Connection

from ..domain.events import EVENT_TYPES, LoadEventMessage

SCHEMA = "fleet"
#: Every fleet event goes to the one bus.
CHANNEL = DEFAULT_CHANNEL

_DESCRIPTIONS = {
    "load.assigned": "A load was assigned to a driver",
    "load.completed": "A driver completed their load",
    "load.cancelled": "An assignment was cancelled; the load is open again",
}


def event_registry() -> JobRegistry:
    """fleet's event types (without handlers: this service only produces them), in a registry of its own."""
    registry = JobRegistry()
    for event_type in EVENT_TYPES:
        registry.register(event_type, LoadEventMessage, description=_DESCRIPTIONS[event_type])
    return registry


class EventOutbox:
    """The outbox of one unit of work: events added here commit with the change, or not at all."""

    def __init__(self, conn: Connection, registry: JobRegistry):
        self._conn = conn
        self._registry = registry

    def add(self, event: LoadEventMessage) -> str:
        """Write the event (validated against the registry); returns its id, the id consumers de-duplicate on."""
        return enqueue(self._conn, event.type, event, schema=SCHEMA, registry=self._registry)
