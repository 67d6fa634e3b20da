"""The process's background parts: built without starting by build_dependencies, started by create_app,
stopped by servicekit.close_app (gunicorn's worker_exit)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text

from ..conftest import BAKERY_TABLES, BRIEF_ORDER, CHOCOLATE_CAKE

pytestmark = pytest.mark.integration
BACKGROUND_THREADS = {"bakery-outbox", "bakery-schedule"}


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def background_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name in BACKGROUND_THREADS and t.is_alive()}


def table_counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in BAKERY_TABLES}  # noqa: S608 - constant table names
    finally:
        engine.dispose()


def test_build_dependencies_starts_no_thread_opens_no_connection_and_writes_nothing(make_settings) -> None:
    from bakery_service.wiring import background, build_dependencies

    # The batch hour is 0: a started schedule would claim today's batch at once.
    settings = make_settings(schedule_enabled=True, jira_batch_hour_utc=0)
    before_threads = set(threading.enumerate())
    before_rows = table_counts(settings.database_url)

    deps = build_dependencies(settings)
    lifecycle = background(deps)
    time.sleep(0.3)  # a thread started by either would have acted by now

    try:
        assert set(threading.enumerate()) == before_threads
        assert not lifecycle.running and len(lifecycle.parts) == 2
        assert deps.engine.pool.checkedin() == 0 and deps.engine.pool.checkedout() == 0
        assert table_counts(settings.database_url) == before_rows
    finally:
        deps.engine.dispose()


def test_create_app_starts_the_background_parts_and_close_app_stops_them(make_settings, fakes, token) -> None:
    import servicekit
    from bakery_service import create_app
    from bakery_service.adapters.login import LoginForwarder
    from bakery_service.wiring import Dependencies
    from servicekit.db import make_engine
    from servicekit.lifecycle import lifecycle_of

    # Per-order mode: placing an order writes its Jira action, which only a running processor sends.
    settings = make_settings(schedule_enabled=True, jira_mode="per-order", integration_poll_seconds=0.05)
    engine = make_engine(settings.database_url, pool_size=4)
    deps = Dependencies(settings, engine, fakes, LoginForwarder(settings.auth_login_url))
    assert background_threads() == set()
    app = create_app(settings, deps)
    try:
        lifecycle = lifecycle_of(app)
        assert lifecycle is not None and lifecycle.running
        assert background_threads() == BACKGROUND_THREADS

        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        assert client.post("/cakes", json=CHOCOLATE_CAKE).status_code == 201
        first = client.post("/orders", json=BRIEF_ORDER).get_json()
        wait_for(lambda: client.get(f"/orders/{first['id']}").get_json()["ticket_key"] is not None)

        servicekit.close_app(app)
        assert not lifecycle.running
        assert background_threads() == set()

        # Stopped for good: a new order's action waits for another process.
        second = client.post("/orders", json=BRIEF_ORDER).get_json()
        time.sleep(0.5)  # ten polls' worth
        assert client.get(f"/orders/{second['id']}").get_json()["ticket_key"] is None
        assert len(fakes.jira.named("create_ticket")) == 1
    finally:
        servicekit.close_app(app)
        engine.dispose()


def test_create_app_can_leave_the_background_parts_stopped(make_settings, fakes) -> None:
    import servicekit
    from bakery_service import create_app
    from bakery_service.adapters.login import LoginForwarder
    from bakery_service.wiring import Dependencies
    from servicekit.db import make_engine
    from servicekit.lifecycle import lifecycle_of

    settings = make_settings(schedule_enabled=True)
    engine = make_engine(settings.database_url, pool_size=1)
    app = create_app(
        settings, Dependencies(settings, engine, fakes, LoginForwarder(settings.auth_login_url)), start_background=False
    )
    try:
        lifecycle = lifecycle_of(app)
        assert lifecycle is not None and not lifecycle.running and len(lifecycle.parts) == 2
        assert background_threads() == set()
    finally:
        servicekit.close_app(app)
        engine.dispose()
