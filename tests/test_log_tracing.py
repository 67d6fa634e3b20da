"""One request id, followed through the JSON lines the services write to LOG_DIR.

Real processes, as in the stack: fleet-api, its outbox relay and audit-worker on a real Redis Streams bus
and a real Postgres; automation-service calling a real gpt-service (against a fake OpenAI server) from its
run thread, with the portal simulator and Chromium.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from servicekit import issue_token
from sqlalchemy import create_engine, text
from testkit.servers import free_port, start_gunicorn, stop_process

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[1]
JWT_SECRET = "test-secret-of-the-log-tracing-test-0123456789"
ACCESS_FIELDS = {"ts", "level", "service", "request_id", "method", "route", "path", "status", "duration_ms"}


def read_lines(log_dir: Path, service: str) -> list[dict]:
    path = log_dir / f"{service}.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def lines_of(log_dir: Path, service: str, request_id: str) -> list[dict]:
    return [line for line in read_lines(log_dir, service) if line.get("request_id") == request_id]


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def access_line(log_dir: Path, service: str, request_id: str, method: str, route: str) -> dict:
    def find():
        for line in lines_of(log_dir, service, request_id):
            if line.get("logger") == "servicekit.access" and line["method"] == method and line["route"] == route:
                return line
        return None

    line = wait_for(find, 10, f"{service}'s access line for {method} {route}")
    assert ACCESS_FIELDS <= set(line), f"missing {ACCESS_FIELDS - set(line)} in {line}"
    assert line["service"] == service and line["level"] == "info"
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    return line


# --- fleet-api -> outbox -> relay -> Redis Streams -> audit-worker ----------------------------------------------


@pytest.fixture()
def fleet_stack(migrated_db_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    log_dir = tmp_path / "logs"
    common = {
        "LOG_DIR": str(log_dir),
        "LOG_LEVEL": "INFO",
        "JWT_SECRET": JWT_SECRET,
        "JOBS_PROVIDER": "redis",
        "JOBS_REDIS_URL": redis_url,
        # A prefix of this test's own: other tests' streams on the same Redis are not consumed here.
        "JOBS_REDIS_PREFIX": f"trace-{uuid.uuid4().hex[:8]}",
        "WEB_CONCURRENCY": "1",
    }
    with create_engine(migrated_db_url).begin() as conn:
        # Rows left pending by other tests would be published to this test's streams too; harmless, but noise.
        conn.execute(text("UPDATE fleet.job_outbox SET state = 'done', done_at = now() WHERE state = 'pending'"))
    fleet_port, audit_port = free_port(), free_port()
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            start_gunicorn(
                REPO / "fleet-api",
                port=fleet_port,
                ready_path="/readyz",
                env={
                    **common,
                    "DATABASE_URL": migrated_db_url,
                    "REDIS_URL": redis_url,
                    "DEMO_USER_PASSWORD": "",
                    "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="trace-fleet-"),
                },
            )
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "fleet_api.relay"],
                cwd=REPO / "fleet-api",
                # No metrics server: its fixed port (9101) is the local stack's relay's, which may be running.
                env={**os.environ, **common, "DATABASE_URL": migrated_db_url, "RELAY_METRICS_PORT": "0"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_for(
            lambda: any(line["message"] == "outbox relay started" for line in read_lines(log_dir, "fleet-api-relay")),
            20,
            "the relay to start",
        )
        procs.append(
            start_gunicorn(
                REPO / "audit-worker",
                port=audit_port,
                env={
                    **common,
                    "AUDIT_STORE": "postgres",
                    "AUDIT_CONSUMER": "embedded",
                    "DATABASE_URL": migrated_db_url,
                    "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="trace-audit-"),
                },
            )
        )
        yield f"http://127.0.0.1:{fleet_port}", f"http://127.0.0.1:{audit_port}", log_dir
    finally:
        for proc in reversed(procs):
            stop_process(proc)


def _fleet_headers(migrated_db_url: str) -> dict[str, str]:
    from fleet_api.settings import Settings

    settings = Settings(database_url=migrated_db_url, jwt_secret=JWT_SECRET)
    token = issue_token(settings, str(uuid.uuid4()), claims={"email": "trace@fleet.example", "role": "admin"})[0]
    return {"Authorization": f"Bearer {token}"}


def test_one_assignment_is_followed_from_fleet_api_through_the_relay_to_the_audit(fleet_stack, migrated_db_url):
    fleet, audit, log_dir = fleet_stack
    auth = _fleet_headers(migrated_db_url)
    driver = requests.post(
        f"{fleet}/drivers", json={"name": "Ann Lee", "licenseNumber": f"L-{uuid.uuid4().hex[:10]}"}, headers=auth
    ).json()
    load = requests.post(
        f"{fleet}/loads", json={"origin": "Austin", "destination": "Dallas", "cargoType": "steel"}, headers=auth
    ).json()
    request_id = f"trace-{uuid.uuid4().hex}"
    answer = requests.post(
        f"{fleet}/assignments",
        json={"driverId": driver["id"], "loadId": load["id"]},
        headers={**auth, "X-Request-ID": request_id},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["X-Request-ID"] == request_id

    # fleet-api: the access line, by route template, not by raw path.
    line = access_line(log_dir, "fleet-api", request_id, "POST", "/assignments")
    assert line["status"] == 201 and line["path"] == "/assignments"
    # ...and the domain event's own line, with what it was about.
    [made] = [x for x in lines_of(log_dir, "fleet-api", request_id) if x["message"] == "assignment made"]
    assert made["logger"] == "fleet_api.assignments" and made["level"] == "info"
    assert (made["assignment_id"], made["driver_id"], made["load_id"]) == (
        answer.json()["id"],
        driver["id"],
        load["id"],
    )

    # The outbox row carries the id as data, written in the request's transaction.
    with create_engine(migrated_db_url).connect() as conn:
        attributes = conn.execute(
            text("SELECT attributes FROM fleet.job_outbox WHERE payload->>'load_id' = :load"), {"load": load["id"]}
        ).scalar_one()
    assert attributes["request_id"] == request_id

    # The relay (a process of its own) logs the id when it publishes the event to Redis Streams.
    published = wait_for(
        lambda: [x for x in lines_of(log_dir, "fleet-api-relay", request_id) if x["message"] == "job published"],
        20,
        "the relay's line",
    )
    assert published[0]["job_type"] == "load.assigned" and published[0]["provider"] == "redis"
    event_id = published[0]["job_id"]

    # audit-worker logs it when recording, and the document keeps it.
    recorded = wait_for(
        lambda: [x for x in lines_of(log_dir, "audit-worker", request_id) if x["message"] == "audit event recorded"],
        20,
        "audit-worker's line",
    )
    assert recorded[0]["event_id"] == event_id and recorded[0]["load_id"] == load["id"]
    trail = requests.get(f"{audit}/audit-events", params={"loadId": load["id"]}, headers=auth, timeout=10).json()
    assert [(d["eventId"], d["requestId"]) for d in trail["items"]] == [(event_id, request_id)]

    # A request without the header gets an id of its own, and its event carries that one, not ours.
    other = requests.post(
        f"{fleet}/loads", json={"origin": "Waco", "destination": "Tyler", "cargoType": "sand"}, headers=auth
    )
    other_id = other.headers["X-Request-ID"]
    assert other_id != request_id
    assert access_line(log_dir, "fleet-api", other_id, "POST", "/loads")["status"] == 201
    created = [x for x in lines_of(log_dir, "fleet-api", other_id) if x["message"] == "load created"]
    assert [x["load_id"] for x in created] == [other.json()["id"]]


def test_a_route_with_a_parameter_is_logged_by_its_template(fleet_stack, migrated_db_url):
    fleet, _audit, log_dir = fleet_stack
    request_id = f"trace-{uuid.uuid4().hex}"
    missing = uuid.uuid4()
    answer = requests.get(
        f"{fleet}/drivers/{missing}",
        headers={**_fleet_headers(migrated_db_url), "X-Request-ID": request_id},
        timeout=10,
    )
    assert answer.status_code == 404
    line = access_line(log_dir, "fleet-api", request_id, "GET", "/drivers/<uuid:driver_id>")
    assert line["status"] == 404 and line["path"] == f"/drivers/{missing}"


# --- automation-service (run thread) -> gpt-service ---------------------------------------------------------------


@pytest.fixture()
def automation_stack(migrated_db_url: str, tmp_path: Path) -> Iterator[tuple[str, requests.Session, Path]]:
    from testkit.fake_openai import FakeOpenAI

    # automation-service's model answer (a note per load id), loaded under a name of its own: "conftest"
    # is taken by several folders of the same session.
    spec = importlib.util.spec_from_file_location(
        "automation_tests_conftest", REPO / "automation-service" / "tests" / "conftest.py"
    )
    answers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(answers)
    score_every_load_id = answers.score_every_load_id
    log_dir = tmp_path / "logs"
    with create_engine(migrated_db_url).begin() as conn:
        conn.execute(text("TRUNCATE loadboard.summaries, loadboard.loads, loadboard.extraction_runs"))
    common = {"LOG_DIR": str(log_dir), "LOG_LEVEL": "INFO", "JWT_SECRET": JWT_SECRET, "WEB_CONCURRENCY": "1"}
    gpt_port, sim_port, service_port = free_port(), free_port(), free_port()
    procs: list[subprocess.Popen] = []
    with FakeOpenAI(score_every_load_id, model="fake-gpt-4o-mini") as fake:
        try:
            procs.append(
                start_gunicorn(
                    REPO / "gpt-service",
                    port=gpt_port,
                    env={
                        **common,
                        "OPENAI_API_KEY": "sk-test",
                        "OPENAI_BASE_URL": fake.base_url,
                        "REDIS_URL": "",
                        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="trace-gpt-"),
                    },
                )
            )
            procs.append(
                start_gunicorn(
                    REPO / "automation-service", port=sim_port, env=common, config="gunicorn.loadboard-sim.conf.py"
                )
            )
            procs.append(
                start_gunicorn(
                    REPO / "automation-service",
                    port=service_port,
                    env={
                        **common,
                        "DATABASE_URL": migrated_db_url,
                        "GPT_SERVICE_URL": f"http://127.0.0.1:{gpt_port}",
                        "JBHUNT_URL": f"http://127.0.0.1:{sim_port}/jbhunt",
                        "LANDSTAR_URL": f"http://127.0.0.1:{sim_port}/landstar",
                        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="trace-auto-"),
                        "STORAGE_PROVIDER": "local",
                        "STORAGE_LOCAL_ROOT": str(tmp_path / "artifacts"),
                    },
                )
            )
            from automation_service.settings import Settings

            token = issue_token(Settings(database_url=migrated_db_url, jwt_secret=JWT_SECRET), "dispatcher")[0]
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
            yield f"http://127.0.0.1:{service_port}", session, log_dir
        finally:
            for proc in reversed(procs):
                stop_process(proc)


def test_a_run_is_followed_from_automation_service_to_gpt_service(automation_stack):
    url, session, log_dir = automation_stack
    request_id = f"trace-{uuid.uuid4().hex}"
    started = session.post(f"{url}/runs", headers={"X-Request-ID": request_id}, timeout=10)
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    access_line(log_dir, "automation-service", request_id, "POST", "/runs")

    deadline = time.monotonic() + 90
    while (run := session.get(f"{url}/runs/{run_id}", timeout=5).json())["status"] == "running":
        assert time.monotonic() < deadline, run
        time.sleep(0.3)
    assert run["summaries_count"] > 0, run

    # The run thread's own lines carry the id of the request that started it...
    finished = wait_for(
        lambda: [
            x for x in lines_of(log_dir, "automation-service", request_id) if x["message"].startswith(f"run {run_id}")
        ],
        10,
        "the run's line",
    )
    assert "finished" in finished[-1]["message"]
    # ...and so does its call to gpt-service, whose access line shows the same id.
    summaries = [
        x
        for x in lines_of(log_dir, "gpt-service", request_id)
        if x.get("logger") == "servicekit.access" and x["method"] == "POST"
    ]
    assert summaries, read_lines(log_dir, "gpt-service")[-5:]
    assert summaries[0]["status"] == 200 and ACCESS_FIELDS <= set(summaries[0])
    answered = [x for x in lines_of(log_dir, "gpt-service", request_id) if x["message"] == "summary answered"]
    assert answered and answered[0]["outcome"] == "model", read_lines(log_dir, "gpt-service")[-5:]
    # A line of the run thread without the id would mean the context was lost on the way (the polling GETs
    # of /runs/<id> are requests of their own, with ids of their own).
    run_lines = [x for x in read_lines(log_dir, "automation-service") if x["logger"] == "automation_service.runner"]
    assert run_lines and all(x.get("request_id") == request_id for x in run_lines)
