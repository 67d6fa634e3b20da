"""`make up` without Docker: six services ready with metrics under supervisord; `make down` leaves no process
behind. Starts the stack on its fixed ports: run under `flock /tmp/suite-localstack.lock`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from suite_support import ROOT, SERVICES

pytestmark = pytest.mark.integration
STACK_PORTS = [5432, 6379, 4566, 9090, 3000, 8010, *SERVICES.values()]


def supervised_pids(state_dir: Path) -> set[int]:
    """supervisord and every process it runs, with their children (gunicorn workers, postgres backends)."""
    import xmlrpc.client

    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, f"unix://{state_dir / 'supervisor.sock'}")
    rpc = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
    pids = {int((state_dir / "supervisord.pid").read_text())}
    for info in rpc.supervisor.getAllProcessInfo():
        assert info["statename"] == "RUNNING", info
        pids.add(info["pid"])
        pids.update(children_of(info["pid"]))
    return pids


def children_of(pid: int) -> set[int]:
    """Every descendant of pid, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


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


def login() -> str:
    answer = requests.post(
        "http://127.0.0.1:8001/auth/login",
        timeout=10,
        json={"email": "demo@fleet.example", "password": "demo-password"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


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


def assert_no_secret_in_logs(state_dir: Path) -> None:
    """R5: neither the signing key nor a password nor a token reaches the logs of a whole session."""
    secrets = {
        "JWT_SECRET": (state_dir / "secrets/jwt_secret").read_text().strip(),
        "demo password": "demo-password",
        "a bearer token": login(),
    }
    logs = {str(path): path.read_text(errors="replace") for path in (state_dir / "logs").rglob("*.log")}
    assert logs, "the services wrote no logs"
    leaks = [f"{what} in {name}" for what, value in secrets.items() for name, text in logs.items() if value in text]
    assert not leaks
    broken = [name for name, text in logs.items() if "--- Logging error ---" in text]
    assert not broken, f"log records that could not be written: {broken}"


@pytest.fixture()
def state_dir():
    busy = [port for port in STACK_PORTS if port_in_use(port)]
    if busy:
        pytest.skip(f"ports {busy} are taken (a running `make up`?); this test needs the stack's own ports")
    path = Path(tempfile.mkdtemp(prefix="suite-stack-"))
    path.chmod(0o755)  # the postgres user must reach its data folder
    yield path
    subprocess.run(["python3", "-c", "import shutil,sys; shutil.rmtree(sys.argv[1], True)", str(path)])


def test_up_serves_every_service_and_down_stops_everything(state_dir: Path) -> None:
    env = {**os.environ, "SUITE_STATE_DIR": str(state_dir)}
    python = str(ROOT / ".venv/bin/python")
    up = subprocess.run(
        [python, "scripts/localstack.py", "up", "--timeout", "90"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    pids: set[int] = set()
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert up.stdout.splitlines()[0].startswith("No Docker engine answered: starting the local stack")
        assert "mail inbox" in up.stdout
        if shutil.which("prometheus"):
            assert "Prometheus: http://127.0.0.1:9090" in up.stdout
        for name, port in SERVICES.items():
            assert f"{name}" in up.stdout
            ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            assert ready.status_code == 200, (name, ready.text)
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            assert "flask_http_request_duration_seconds_bucket" in metrics, name
        if shutil.which("prometheus"):
            assert_prometheus_scrapes_every_process()
        assert_fleet_walkthrough_reaches_the_audit_trail()
        assert_extraction_run_stores_both_portals()
        assert_no_secret_in_logs(state_dir)
        again = subprocess.run(
            [python, "scripts/localstack.py", "up"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert again.returncode == 0 and "already running" in again.stdout
        pids.update(supervised_pids(state_dir))
        assert len(pids) >= 12, pids  # supervisord, four servers, six services, the relay, the simulator
    finally:
        down = subprocess.run(
            [python, "scripts/localstack.py", "down"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
    assert down.returncode == 0, down.stderr
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if alive(pid)]
    assert not [port for port in STACK_PORTS if port_in_use(port)]
