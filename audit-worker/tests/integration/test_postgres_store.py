"""AUDIT_STORE=postgres: chosen by configuration, durable across processes, one document per event however
many consumers race (the contract itself runs on every store in tests/unit/test_handler.py)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from audit_worker.adapters.postgres_store import PostgresAuditStore
from audit_worker.adapters.stores import build_store
from audit_worker.domain.audit import FleetEvent, audit_document
from audit_worker.settings import Settings

from ..conftest import JWT_SECRET, fleet_event, trail

pytestmark = pytest.mark.integration


def test_configuration_chooses_the_postgres_store(migrated_db_url):
    settings = Settings(jwt_secret=JWT_SECRET, audit_store="postgres", database_url=migrated_db_url)
    store = build_store(settings)
    try:
        assert isinstance(store, PostgresAuditStore)
        assert store.ping() == {"store": "postgres"}
    finally:
        store.engine.dispose()


def test_the_postgres_store_needs_a_database_url():
    with pytest.raises(SystemExit, match="DATABASE_URL"):
        build_store(Settings(jwt_secret=JWT_SECRET, audit_store="postgres"))


def test_the_trail_survives_a_restart_and_racing_consumers_record_an_event_once(migrated_db_url):
    event = FleetEvent.model_validate(fleet_event())
    event_id = str(uuid.uuid4())
    stores = [PostgresAuditStore.from_url(migrated_db_url, pool_size=1) for _ in range(4)]
    results: list[bool] = []
    barrier = threading.Barrier(len(stores))

    def consume(store: PostgresAuditStore) -> None:
        barrier.wait()
        with store.unit_of_work() as uow:
            results.append(uow.events.record(audit_document(event_id, event))[1])
            uow.commit()

    threads = [threading.Thread(target=consume, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with stores[0].unit_of_work() as uow:
        uow.events.mark_notified(event_id, at)
        uow.commit()
    for store in stores:
        store.engine.dispose()

    assert sorted(results) == [False, False, False, True]
    restarted = PostgresAuditStore.from_url(migrated_db_url, pool_size=1)
    try:
        [document] = trail(restarted, load_id=str(event.load_id))
        assert document["eventId"] == event_id and document["notifiedAt"] == at
        assert document["payload"]["load"]["origin"] == "Austin"
        with restarted.unit_of_work() as uow:
            assert uow.events.latest()["eventId"] == event_id
    finally:
        restarted.engine.dispose()
