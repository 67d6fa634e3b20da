"""The process's life: build_dependencies builds and starts nothing (no thread, no connection, no write);
create_app starts the embedded consumer and servicekit.close_app stops it."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import jobs
import pytest
from audit_worker import create_app
from audit_worker.adapters.memory_store import MemoryAuditStore
from audit_worker.adapters.postgres_store import PostgresAuditStore
from audit_worker.wiring import build_dependencies
from jobs.providers.inprocess import InProcessProvider
from pydantic import SecretStr
from servicekit import close_app
from servicekit.lifecycle import lifecycle_of
from sqlalchemy import create_engine, text
from testkit.lifecycle import assert_closed_for_good
from testkit.listeners import connected, silent_listeners

from ..conftest import fleet_event, trail

pytestmark = pytest.mark.integration
CONSUMER = "audit-consumer"


def consumers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == CONSUMER and thread.is_alive()]


@pytest.fixture()
def listeners() -> Iterator[list[socket.socket]]:
    with silent_listeners(2) as servers:
        yield servers


def port(server: socket.socket) -> int:
    return int(server.getsockname()[1])


def audit_rows(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM audit.audit_events")).scalar_one())
    finally:
        engine.dispose()


def test_build_dependencies_on_mongo_and_the_bus_starts_no_thread_and_connects_to_nothing(
    settings, listeners, monkeypatch
):
    mongo, bus = listeners
    monkeypatch.setenv("JOBS_PROVIDER", "redis")
    monkeypatch.setenv("JOBS_REDIS_URL", f"redis://127.0.0.1:{port(bus)}/0")
    embedded = settings.model_copy(
        update={
            "audit_consumer": "embedded",
            "audit_store": "mongo",
            "mongo_url": SecretStr(f"mongodb://127.0.0.1:{port(mongo)}"),
        }
    )
    threads = set(threading.enumerate())
    deps = build_dependencies(embedded)
    assert set(threading.enumerate()) == threads
    assert deps.consumer is not None and not deps.consumer.alive()
    assert deps.consumer.dispatcher.provider.name == "redis"
    assert not connected(mongo), "MongoDB was connected to while building"
    assert not connected(bus), "the bus was connected to while building"


def test_build_dependencies_on_postgres_opens_no_connection_and_writes_nothing(settings, migrated_db_url):
    embedded = settings.model_copy(
        update={"audit_consumer": "embedded", "audit_store": "postgres", "database_url": SecretStr(migrated_db_url)}
    )
    rows = audit_rows(migrated_db_url)
    threads = set(threading.enumerate())
    deps = build_dependencies(embedded, dispatcher=jobs.Dispatcher(jobs.JobRegistry(), InProcessProvider()))
    try:
        assert set(threading.enumerate()) == threads
        assert isinstance(deps.store, PostgresAuditStore)
        # The pool holds no connection: none was opened to build.
        assert deps.store.engine.pool.checkedin() == 0 and deps.store.engine.pool.checkedout() == 0
        assert audit_rows(migrated_db_url) == rows
    finally:
        if isinstance(deps.store, PostgresAuditStore):
            deps.store.engine.dispose()


def test_create_app_starts_the_consumer_and_close_app_stops_it(settings, auth):
    embedded = settings.model_copy(update={"audit_consumer": "embedded"})
    bus, store = InProcessProvider(), MemoryAuditStore()
    assert consumers() == []
    app = create_app(
        embedded, build_dependencies(embedded, store=store, dispatcher=jobs.Dispatcher(jobs.JobRegistry(), bus))
    )
    lifecycle = lifecycle_of(app)
    try:
        assert lifecycle is not None and lifecycle.running
        assert len(consumers()) == 1
        event = fleet_event()
        bus.publish(jobs.Job(type="load.assigned", payload=event, id=str(uuid.uuid4())))
        deadline = time.monotonic() + 10
        while not trail(store, load_id=event["load_id"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(trail(store, load_id=event["load_id"])) == 1
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        close_app(app)
    assert consumers() == []
    assert_closed_for_good(app)


def test_without_its_background_the_app_consumes_nothing_and_says_so(settings):
    embedded = settings.model_copy(update={"audit_consumer": "embedded"})
    deps = build_dependencies(
        embedded, store=MemoryAuditStore(), dispatcher=jobs.Dispatcher(jobs.JobRegistry(), InProcessProvider())
    )
    app = create_app(embedded, deps, start_background=False)
    try:
        assert consumers() == []
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["checks"]["consumer"]["status"] == "down"
    finally:
        close_app(app)
