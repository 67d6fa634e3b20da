"""Whole runs: the simulator in Chromium, a real gpt-service process on a fake OpenAI server,
real Postgres."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import servicekit
from automation_service import create_app
from automation_service.settings import Settings
from automation_service.wiring import build_dependencies
from flask import Flask
from servicekit import issue_token
from sqlalchemy import create_engine, text
from testkit.servers import free_port

pytestmark = pytest.mark.integration
JWT_SECRET = "test-secret-of-automation-service-0123456789"
TOP_QUERY = Path(__file__).resolve().parents[3] / "db" / "queries" / "top_loads_by_insight.sql"


@pytest.fixture()
def db(migrated_db_url):
    engine = create_engine(migrated_db_url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE loadboard.summaries, loadboard.loads, loadboard.extraction_runs"))
        conn.execute(text("REFRESH MATERIALIZED VIEW loadboard.load_insights"))
    yield engine
    engine.dispose()


@pytest.fixture()
def service(db, migrated_db_url, clean_sim, gpt_service_url, files):
    """automation-service in-process (Flask test client); its runs execute in its background thread."""

    def build(**overrides):
        values = {
            "database_url": migrated_db_url,
            "jwt_secret": JWT_SECRET,
            "gpt_service_url": gpt_service_url,
            "jbhunt_url": f"{clean_sim.url}/jbhunt",
            "landstar_url": f"{clean_sim.url}/landstar",
            "navigation_timeout_ms": 15000,
            "portal_max_attempts": 2,
            "retry_backoff_seconds": 0.05,
            "retry_backoff_max_seconds": 0.2,
            "gpt_max_attempts": 2,
            # Well inside pytest's own timeout: a run that stops answering ends as failed portals, not a hang.
            "run_timeout_seconds": 120,
            "gpt_timeout_seconds": 20,
        }
        values.update(overrides)
        settings = Settings(**values)
        app = create_app(settings, build_dependencies(settings, artifact_files=files))
        client = app.test_client()
        token = issue_token(settings, "dispatcher@example.com")[0]
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        builds.append(app)
        return client

    builds: list[Flask] = []
    yield build
    for app in builds:
        servicekit.close_app(app)
        # A run the schedule started at the last moment ends before the next test empties the tables.
        deadline = time.monotonic() + 60
        while any(t.name.startswith("extraction-run") for t in threading.enumerate()):
            assert time.monotonic() < deadline, "a run outlived its service"
            time.sleep(0.1)


def wait_for(client, run_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/runs/{run_id}").get_json()
        if run["status"] != "running":
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still running after {timeout}s")


def count(db, sql: str) -> int:
    with db.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_a_run_stores_40_loads_their_summaries_and_the_top_5(service, db, fake_openai):
    client = service()
    started = client.post("/runs")
    assert started.status_code == 202, started.get_json()
    run_id = started.get_json()["id"]
    assert started.headers["Location"] == f"/runs/{run_id}"
    assert started.get_json()["status"] == "running"
    assert set(started.get_json()["portals"]) == {"jbhunt", "landstar"}

    second = client.post("/runs")
    assert second.status_code == 409 and second.mimetype == "application/problem+json"
    assert second.get_json()["run_id"] == run_id and second.get_json()["title"] == "Run in progress"
    assert second.headers["Location"] == f"/runs/{run_id}"

    run = wait_for(client, run_id)
    assert run["status"] == "succeeded", run["errors"]
    assert (run["loads_count"], run["summaries_count"]) == (40, 41)
    for portal in ("jbhunt", "landstar"):
        assert run["portals"][portal]["state"] == "done" and run["portals"][portal]["loads"] == 20
    assert run["summary"]["model"] == fake_openai.MODEL and run["summary"]["degraded"] is False
    assert run["errors"] == []

    assert count(db, "SELECT count(*) FROM loadboard.loads") == 40
    assert count(db, "SELECT count(*) FROM loadboard.summaries WHERE load_id IS NOT NULL") == 40
    assert count(db, "SELECT count(*) FROM loadboard.summaries WHERE load_id IS NULL") == 1
    # The per-load text is the model's note (from the fake OpenAI server, through gpt-service).
    assert (
        count(
            db,
            "SELECT count(*) FROM loadboard.summaries s JOIN loadboard.loads l ON l.id = s.load_id "
            "WHERE s.summary_text = 'model note on ' || l.portal_load_id",
        )
        == 40
    )
    assert count(db, "SELECT count(*) FROM loadboard.load_insights WHERE score IS NOT NULL") == 40
    assert (
        count(db, "SELECT count(*) FROM loadboard.loads WHERE posted_at IS NULL OR origin_state !~ '^[A-Z]{2}$'") == 0
    )
    assert count(db, "SELECT count(*) FROM loadboard.loads WHERE price IS NULL") > 0  # "Call" and blank rates

    top = client.get("/loads/top-insights").get_json()["loads"]
    assert len(top) == 5
    scores = [float(x["score"]) for x in top]
    assert scores == sorted(scores, reverse=True)
    best = count(db, "SELECT max(score)::float8 * 1000 FROM loadboard.summaries")
    assert scores[0] * 1000 == best
    with db.connect() as conn:
        from_file = [str(r.load_id) for r in conn.execute(text(TOP_QUERY.read_text()))]
    assert [x["load_id"] for x in top] == from_file

    loads = client.get("/loads?limit=50").get_json()
    assert loads["total"] == 40 and len(loads["loads"]) == 40
    posted = [x["posted_at"] for x in loads["loads"]]
    assert posted == sorted(posted, reverse=True)
    assert client.get("/loads?portal=landstar").get_json()["total"] == 20

    # A second run sees the same loads: refreshed, not duplicated; the view keeps one row per load.
    again = wait_for(client, client.post("/runs").get_json()["id"])
    assert again["status"] == "succeeded"
    assert count(db, "SELECT count(*) FROM loadboard.loads") == 40
    assert count(db, "SELECT count(*) FROM loadboard.summaries") == 82
    assert count(db, "SELECT count(*) FROM loadboard.load_insights") == 40
    with db.connect() as conn:
        refreshed = conn.execute(
            text("SELECT count(*) FROM loadboard.loads WHERE last_run_id = :id"), {"id": again["id"]}
        ).scalar_one()
    assert refreshed == 40
    listed = client.get("/runs").get_json()["runs"]
    assert [r["id"] for r in listed] == [again["id"], run_id]


def test_a_portal_that_fails_makes_the_run_partial_with_the_reason(service, db, clean_sim, files):
    clean_sim.faults.configured = {"landstar": "login"}
    client = service()
    run = wait_for(client, client.post("/runs").get_json()["id"])
    assert run["status"] == "partial"
    assert run["loads_count"] == 20 and run["summaries_count"] == 21
    landstar = run["portals"]["landstar"]
    assert landstar["state"] == "failed" and landstar["error_kind"] == "login"
    assert any("landstar" in e and "refused" in e for e in run["errors"])
    assert landstar["artifacts"] and all(files.exists(key) for key in landstar["artifacts"])
    assert count(db, "SELECT count(*) FROM loadboard.loads WHERE portal = 'landstar'") == 0


def test_without_gpt_service_the_loads_are_kept_and_the_run_is_partial(service, db):
    client = service(gpt_service_url=f"http://127.0.0.1:{free_port()}", gpt_max_attempts=2)
    run = wait_for(client, client.post("/runs").get_json()["id"])
    assert run["status"] == "partial"
    assert run["loads_count"] == 40 and run["summaries_count"] == 0
    assert any(e.startswith("summaries: gpt-service unreachable") for e in run["errors"])
    assert count(db, "SELECT count(*) FROM loadboard.loads") == 40
    assert client.get("/loads/top-insights").get_json()["loads"] == []


def test_every_portal_failing_fails_the_run(service, db, clean_sim):
    clean_sim.faults.configured = {"landstar": "layout", "jbhunt": "login"}
    client = service()
    run = wait_for(client, client.post("/runs").get_json()["id"])
    assert run["status"] == "failed" and len(run["errors"]) == 2 and run["loads_count"] == 0


def test_a_run_abandoned_by_a_dead_worker_does_not_block_new_runs(service, db):
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO loadboard.extraction_runs (status, heartbeat_at) "
                "VALUES ('running', now() - interval '2 hours')"
            )
        )
    client = service(run_stale_after_seconds=60, portals="jbhunt")
    started = client.post("/runs")
    assert started.status_code == 202
    wait_for(client, started.get_json()["id"])
    failed = client.get("/runs?status=failed").get_json()["runs"]
    assert len(failed) == 1 and failed[0]["errors"][0].startswith("abandoned")


def test_runs_start_on_the_schedule_when_an_interval_is_set(service, db):
    client = service(schedule_interval_seconds=1, portals="landstar")
    deadline = time.monotonic() + 30
    while not (runs := client.get("/runs").get_json()["runs"]):
        assert time.monotonic() < deadline, "no scheduled run started"
        time.sleep(0.2)
    assert runs[0]["trigger"] == "schedule" and runs[0]["requested_by"] is None
    assert wait_for(client, runs[0]["id"])["status"] == "succeeded"
    servicekit.close_app(client.application)


def test_the_api_needs_a_token_and_answers_problems(service):
    client = service()
    anonymous = client.application.test_client()
    assert anonymous.post("/runs").status_code == 401
    assert anonymous.get("/loads").status_code == 401
    missing = client.get("/runs/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.get("/runs/not-a-uuid").status_code == 404
    bad = client.get("/loads?limit=0&portal=nowhere")
    assert bad.status_code == 422 and "query.limit" in bad.get_json()["detail"]
    assert client.get("/openapi.json").get_json()["paths"]["/runs"]["post"]["responses"]["409"]
