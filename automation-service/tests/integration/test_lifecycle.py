"""The process's background parts (the warm browser's loop, the run executor, the schedule): built without
starting by build_dependencies, started by create_app, stopped by servicekit.close_app (gunicorn's worker_exit)."""

from __future__ import annotations

import threading
import time

import pytest
import servicekit
from automation_service import create_app
from automation_service.settings import Settings
from automation_service.wiring import background, build_dependencies
from servicekit import issue_token
from servicekit.lifecycle import lifecycle_of
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.integration
JWT_SECRET = "test-secret-of-automation-service-0123456789"
TABLES = ("loadboard.extraction_runs", "loadboard.loads", "loadboard.summaries")


def background_threads() -> set[str]:
    names = {t.name for t in threading.enumerate() if t.is_alive()}
    return {n for n in names if n in ("warm-browser", "extraction-schedule") or n.startswith("extraction-run")}


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}  # noqa: S608 - constant names


@pytest.fixture()
def db(migrated_db_url):
    engine = create_engine(migrated_db_url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE loadboard.summaries, loadboard.loads, loadboard.extraction_runs"))
    yield engine
    engine.dispose()


@pytest.fixture()
def settings(migrated_db_url) -> Settings:
    # An interval of one second: a started schedule would record a run at once.
    return Settings(database_url=migrated_db_url, jwt_secret=JWT_SECRET, schedule_interval_seconds=1, portals="jbhunt")


def test_build_dependencies_starts_no_thread_opens_no_connection_and_writes_nothing(settings, db):
    before_threads = set(threading.enumerate())
    before_rows = table_counts(db)

    deps = build_dependencies(settings)
    lifecycle = background(deps)
    time.sleep(1.5)  # past the schedule's interval: a thread started by either would have acted by now

    try:
        assert set(threading.enumerate()) == before_threads
        assert not lifecycle.running and len(lifecycle.parts) == 4
        assert not deps.browser.launched and not deps.runs.running
        assert deps.engine.pool.checkedin() == 0 and deps.engine.pool.checkedout() == 0
        assert table_counts(db) == before_rows
    finally:
        deps.engine.dispose()


def test_create_app_starts_the_background_parts_and_close_app_stops_them(settings, db):
    assert background_threads() == set()
    app = create_app(settings.model_copy(update={"schedule_interval_seconds": 3600}))
    try:
        lifecycle = lifecycle_of(app)
        assert lifecycle is not None and lifecycle.running
        assert background_threads() == {"warm-browser", "extraction-schedule"}

        servicekit.close_app(app)
        assert not lifecycle.running
        deadline = time.monotonic() + 10
        while background_threads():
            assert time.monotonic() < deadline, background_threads()
            time.sleep(0.05)

        # Stopped for good: a start is refused (503) and its run ended at once, not left blocking every start.
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(settings, 'dispatcher')[0]}"
        refused = client.post("/runs")
        assert refused.status_code == 503 and refused.mimetype == "application/problem+json"
        (run,) = client.get("/runs").get_json()["runs"]
        assert run["status"] == "failed" and run["errors"][0].startswith("not executed:")
        assert background_threads() == set()
    finally:
        servicekit.close_app(app)


def test_create_app_can_leave_the_background_parts_stopped(settings, db):
    app = create_app(settings, start_background=False)
    try:
        lifecycle = lifecycle_of(app)
        assert lifecycle is not None and not lifecycle.running and len(lifecycle.parts) == 4
        time.sleep(1.5)
        assert background_threads() == set() and table_counts(db)["loadboard.extraction_runs"] == 0
    finally:
        servicekit.close_app(app)
