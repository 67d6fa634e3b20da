"""Fixtures of audit-worker's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import mongomock
import pytest

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256"


def fleet_event(event_type: str = "load.assigned", **overrides) -> dict:
    driver_id, load_id = str(uuid.uuid4()), str(uuid.uuid4())
    event = {
        "type": event_type,
        "assignment_id": str(uuid.uuid4()),
        "assignment_status": "ASSIGNED",
        "driver_id": driver_id,
        "load_id": load_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "driver": {"id": driver_id, "name": "Ann Lee", "license_number": "TX-1", "status": "ON_LOAD"},
        "load": {
            "id": load_id,
            "origin": "Austin",
            "destination": "Dallas",
            "cargo_type": "steel",
            "status": "ASSIGNED",
        },
    }
    event.update(overrides)
    return event


@pytest.fixture(params=["memory", "mongo"])
def store(request):
    """Each test runs on both stores: the local stack's and compose's (mongomock for MongoDB)."""
    from audit_worker.adapters.store import MemoryAuditStore, MongoAuditStore

    if request.param == "memory":
        return MemoryAuditStore()
    return MongoAuditStore(mongomock.MongoClient(tz_aware=True)["audit"])


@pytest.fixture()
def settings():
    from audit_worker.settings import Settings

    return Settings(jwt_secret=JWT_SECRET, audit_consumer="off")


@pytest.fixture()
def auth(settings) -> dict[str, str]:
    from servicekit import issue_token

    return {"Authorization": f"Bearer {issue_token(settings, 'tester')[0]}"}
