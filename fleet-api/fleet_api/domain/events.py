"""The events fleet-api publishes (through the outbox) for the audit trail and anyone else.

The wire format is this model dumped as JSON; the job id of each event is its outbox row id,
so consumers de-duplicate on it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

LOAD_ASSIGNED = "load.assigned"
LOAD_COMPLETED = "load.completed"
LOAD_CANCELLED = "load.cancelled"
EVENT_TYPES = (LOAD_ASSIGNED, LOAD_COMPLETED, LOAD_CANCELLED)


class DriverSnapshot(BaseModel):
    id: UUID
    name: str
    license_number: str
    status: str


class LoadSnapshot(BaseModel):
    id: UUID
    origin: str
    destination: str
    cargo_type: str
    status: str


class LoadEventMessage(BaseModel):
    """One change of an assignment, with the driver and load as they were right after it."""

    type: str
    assignment_id: UUID
    assignment_status: str
    driver_id: UUID
    load_id: UUID
    occurred_at: datetime
    driver: DriverSnapshot
    load: LoadSnapshot
