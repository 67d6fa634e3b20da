"""From a fleet event to an audit document and a driver notification."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

EVENT_TYPES = ("load.assigned", "load.completed", "load.cancelled")


class FleetEvent(BaseModel):
    """What the audit needs from fleet-api's event; further fields are kept in the payload as sent."""

    model_config = ConfigDict(extra="allow")

    type: str
    driver_id: UUID
    load_id: UUID
    occurred_at: datetime
    assignment_id: UUID | None = None
    driver: dict[str, Any] = Field(default_factory=dict)
    load: dict[str, Any] = Field(default_factory=dict)


def audit_document(
    event_id: str, event: FleetEvent, recorded_at: datetime | None = None, request_id: str | None = None
) -> dict[str, Any]:
    """One document per event, keyed by the event id (the outbox row id, stable across redeliveries);
    ``requestId`` is the id of the fleet-api request that caused the event, when it came with one."""
    return {
        "eventId": event_id,
        "requestId": request_id,
        "type": event.type,
        "driverId": str(event.driver_id),
        "loadId": str(event.load_id),
        "payload": camel_keys(event.model_dump(mode="json")),
        "occurredAt": event.occurred_at.astimezone(UTC),
        "recordedAt": recorded_at or datetime.now(UTC),
        "notifiedAt": None,
    }


def camel_keys(value: Any) -> Any:
    """The payload in the API's field style (``assignmentId``, ``cargoType``), at every depth. Documents
    written before the audit used it have snake_case payloads: read through this, they answer the same."""
    if isinstance(value, dict):
        return {to_camel(key) if "_" in key else key: camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    return value


_VERBS = {
    "load.assigned": "You have a new load",
    "load.completed": "Load completed",
    "load.cancelled": "Your load was cancelled",
}


def notification(event: FleetEvent) -> tuple[str, str]:
    """Subject and text of the message for the driver."""
    driver = event.driver.get("name") or str(event.driver_id)
    load = event.load
    route = f"{load.get('origin', '?')} -> {load.get('destination', '?')}"
    subject = f"{_VERBS.get(event.type, event.type)}: {route}"
    cargo = load.get("cargo_type") or load.get("cargoType") or ""
    body = (
        f"Hello {driver},\n\n{subject}.\nLoad {event.load_id} ({cargo})"
        f"\nEvent: {event.type} at {event.occurred_at.isoformat()}\n"
    )
    return subject, body
