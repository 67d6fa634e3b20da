"""Events leave through the jobs outbox: a row in ``fleet.job_outbox``, written in the transaction of
the change, and published by the relay (``python -m fleet_api.relay``) to whatever bus
``JOBS_PROVIDER`` names (Redis Streams locally, Pub/Sub in compose)."""

from __future__ import annotations

import jobs
from jobs.outbox import enqueue
from sqlalchemy import Connection

from ..domain.events import EVENT_TYPES, LoadEventMessage

SCHEMA = "fleet"

_DESCRIPTIONS = {
    "load.assigned": "A load was assigned to a driver",
    "load.completed": "A driver completed their load",
    "load.cancelled": "An assignment was cancelled; the load is open again",
}


def register_event_types() -> None:
    """Declare the types (without handlers: this process only produces them)."""
    for event_type in EVENT_TYPES:
        jobs.register(event_type, LoadEventMessage, description=_DESCRIPTIONS[event_type])


def write_to_outbox(conn: Connection, event: LoadEventMessage) -> None:
    enqueue(conn, event.type, event, schema=SCHEMA)
