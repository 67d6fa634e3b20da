"""Events leave through the jobs outbox: a row in ``fleet.job_outbox``, written in the transaction of
the change, and published by the relay (``python -m fleet_api.relay``) to whatever bus
``JOBS_PROVIDER`` names (Redis Streams locally, Pub/Sub in compose)."""

from __future__ import annotations

from collections.abc import Callable

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


def outbox_writer(registry: JobRegistry | None = None) -> Callable[[Connection, LoadEventMessage], None]:
    """Writes an event to the outbox on the given connection, validated against ``registry``."""
    types = registry or event_registry()

    def write(conn: Connection, event: LoadEventMessage) -> None:
        enqueue(conn, event.type, event, schema=SCHEMA, registry=types)

    return write
