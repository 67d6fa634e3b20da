"""`make up` without Docker: six services ready with metrics under supervisord; `make down` leaves no process
behind (checked as the session's stack goes down: see tests/conftest.py's `local_stack`). Runs on the stack's
fixed ports: run under `flock /tmp/suite-localstack.lock`."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import requests
from stack_harness import Stack, login, run_localstack
from suite_support import ROOT, SERVICES

pytestmark = pytest.mark.integration


def assert_prometheus_scrapes_every_process() -> None:
    deadline = time.monotonic() + 30
    healthy: dict[str, str] = {}
    while time.monotonic() < deadline:
        answer = requests.get("http://127.0.0.1:9090/api/v1/targets", timeout=5).json()
        targets = answer["data"]["activeTargets"]
        healthy = {t["labels"]["job"]: t["health"] for t in targets}
        # The six services and the fleet relay, which serves its own /metrics.
        if healthy == {name: "up" for name in [*SERVICES, "fleet-relay"]}:
            return
        time.sleep(1)
    raise AssertionError(f"prometheus targets: {healthy}")


def assert_fleet_walkthrough_reaches_the_audit_trail() -> None:
    """Issue 4's end-to-end script against the stack: login ... 409 ... audit trail."""
    demo = subprocess.run(["bash", "scripts/test_endpoints.sh"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-2000:]
    assert "load.assigned" in demo.stdout and "load.completed" in demo.stdout


def finished_run(run: dict, headers: dict[str, str], timeout: float = 120) -> dict:
    """An automation-service run as it stands once it stops running (or as it is when the time is up)."""
    run_url = f"http://127.0.0.1:8003/runs/{run['id']}"
    deadline = time.monotonic() + timeout
    while run["status"] == "running" and time.monotonic() < deadline:
        time.sleep(1)
        run = requests.get(run_url, headers=headers, timeout=10).json()
    return run


def assert_extraction_run_stores_both_portals() -> None:
    """Issue 5's end to end: a run against the simulator stores 40 loads with summaries; top 5 insights."""
    headers = {"Authorization": f"Bearer {login()}"}
    started = requests.post("http://127.0.0.1:8003/runs", headers=headers, timeout=10)
    assert started.status_code == 202, started.text
    run = finished_run(started.json(), headers)
    assert run["status"] == "succeeded", run
    assert run["loads_count"] == 40 and run["summaries_count"] >= 40, run
    top = requests.get("http://127.0.0.1:8003/loads/top-insights", headers=headers, timeout=10)
    assert top.status_code == 200 and len(top.json()["loads"]) == 5, top.text


def test_up_serves_every_service_under_supervisord_and_up_again_changes_nothing(local_stack: Stack) -> None:
    """`make down` stopping every one of these processes is checked as the session's stack goes down."""
    up = local_stack.up_output
    assert up.splitlines()[0].startswith("No Docker engine answered: starting the local stack"), up
    assert "mail inbox" in up
    if shutil.which("prometheus"):
        assert "Prometheus: http://127.0.0.1:9090" in up
    for name, port in SERVICES.items():
        assert f"{name}" in up
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200, (name, ready.text)
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "flask_http_request_duration_seconds_bucket" in metrics, name
    if shutil.which("prometheus"):
        assert_prometheus_scrapes_every_process()
    assert_fleet_walkthrough_reaches_the_audit_trail()
    assert_extraction_run_stores_both_portals()
    again = run_localstack("up", env=local_stack.env, timeout=60)
    assert again.returncode == 0 and "already running" in again.stdout
    states = {info["name"]: info["statename"] for info in local_stack.rpc.getAllProcessInfo()}
    assert set(states.values()) == {"RUNNING"}, states
    pids = local_stack.supervised_pids()
    assert len(pids) >= 12, pids  # supervisord, four servers, six services, the relay, the simulator
