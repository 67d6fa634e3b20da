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


def trail(store, **filters) -> list[dict]:
    """The store's documents, read through a unit of work as the service reads them."""
    with store.unit_of_work() as uow:
        return uow.events.find(**filters)


def record(store, document: dict) -> None:
    with store.unit_of_work() as uow:
        uow.events.record(document)
        uow.commit()


@pytest.fixture(params=["memory", "mongo", "postgres"])
def store(request):
    """Each test runs on every store: memory, compose's MongoDB (mongomock) and the local stack's Postgres
    (a real server, migrated; the table is emptied before each test)."""
    from audit_worker.adapters.memory_store import MemoryAuditStore
    from audit_worker.adapters.mongo_store import MongoAuditStore

    if request.param == "memory":
        yield MemoryAuditStore()
        return
    if request.param == "mongo":
        yield MongoAuditStore(mongomock.MongoClient(tz_aware=True)["audit"])
        return
    from audit_worker.adapters.postgres_store import PostgresAuditStore
    from sqlalchemy import text

    url = request.getfixturevalue("migrated_db_url")
    store = PostgresAuditStore.from_url(url, pool_size=2)
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit.audit_events"))
    yield store
    store.engine.dispose()


@pytest.fixture()
def settings():
    from audit_worker.settings import Settings

    return Settings(jwt_secret=JWT_SECRET, audit_consumer="off")


@pytest.fixture()
def auth(settings) -> dict[str, str]:
    from servicekit import issue_token

    return {"Authorization": f"Bearer {issue_token(settings, 'tester')[0]}"}
