"""The local stack survives its processes dying: each kind is killed with SIGKILL (a service's gunicorn
master, the outbox relay, Redis, the audit consumer's service), supervisord brings it back, the stack is
ready again, and the fleet assignments made around each kill reach the audit trail exactly once.

Starts the stack on its fixed ports: run under `flock /tmp/suite-localstack.lock`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from suite_support import ROOT, SERVICES
from test_local_stack import STACK_PORTS, alive, children_of, port_in_use

pytestmark = pytest.mark.integration
FLEET = "http://127.0.0.1:8001"
AUDIT = "http://127.0.0.1:8005"
PYTHON = str(ROOT / ".venv/bin/python")
# (supervisor's name, what is killed): each kind of process of the stack.
VICTIMS = ("services:fleet-api", "services:fleet-relay", "infra:redis", "services:audit-worker")


class Stack:
    def __init__(self, state_dir: Path):
        from supervisor.xmlrpc import SupervisorTransport

        self.state_dir = state_dir
        transport = SupervisorTransport(None, None, f"unix://{state_dir / 'supervisor.sock'}")
        self.rpc = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def pid(self, name: str) -> int:
        return self.rpc.getProcessInfo(name)["pid"]

    def wait_back(self, name: str, old_pid: int, timeout: float = 90) -> float:
        """Seconds until `name` runs again under a new pid and every service answers /readyz 200."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            info = self.rpc.getProcessInfo(name)
            if info["statename"] == "RUNNING" and info["pid"] not in (0, old_pid) and all_ready():
                return time.monotonic() - started
            time.sleep(0.5)
        raise AssertionError(f"{name} not back within {timeout}s: {self.rpc.getProcessInfo(name)}")


def all_ready() -> bool:
    for port in SERVICES.values():
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=3).status_code != 200:
                return False
        except requests.RequestException:
            return False
    return True


@contextlib.contextmanager
def running_local_stack(prefix: str, up_timeout: float, before_down: Callable[[Path], None] | None = None):
    """`localstack.py up` in a state folder of its own on the stack's fixed ports, then `down`, and proof that
    no process or port is left behind. ``before_down`` checks the stack's files while it still runs."""
    busy = [port for port in STACK_PORTS if port_in_use(port)]
    if busy:
        pytest.skip(f"ports {busy} are taken (a running `make up`?); these tests need the stack's own ports")
    state_dir = Path(tempfile.mkdtemp(prefix=prefix))
    state_dir.chmod(0o755)  # the postgres user must reach its data folder
    env = {**os.environ, "SUITE_STATE_DIR": str(state_dir)}
    started = time.monotonic()
    up = subprocess.run(
        [PYTHON, "scripts/localstack.py", "up", "--timeout", str(up_timeout)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=up_timeout + 180,
    )
    pids: set[int] = set()
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        print(f"local stack up in {time.monotonic() - started:.1f}s")
        yield Stack(state_dir)
        if before_down is not None:
            before_down(state_dir)
        stack = Stack(state_dir)
        pids = {int((state_dir / "supervisord.pid").read_text())}
        for info in stack.rpc.getAllProcessInfo():
            pids.add(info["pid"])
            pids.update(children_of(info["pid"]))
    finally:
        down = subprocess.run(
            [PYTHON, "scripts/localstack.py", "down"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        subprocess.run(["python3", "-c", "import shutil,sys; shutil.rmtree(sys.argv[1], True)", str(state_dir)])
    assert down.returncode == 0, down.stderr
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if alive(pid)]
    assert not [port for port in STACK_PORTS if port_in_use(port)]


@pytest.fixture(scope="module")
def stack():
    with running_local_stack("suite-faults-", up_timeout=240) as running:
        yield running


def call(method: str, url: str, token: str | None = None, timeout: float = 60, **kwargs) -> requests.Response:
    """Retries while the service is down or restarting (connection refused, 502/503), as a client would."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = requests.request(method, url, headers=headers, timeout=10, **kwargs)
            if answer.status_code not in (502, 503) or time.monotonic() > deadline:
                return answer
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def test_each_kind_of_process_comes_back_and_no_assignment_is_lost_or_doubled(stack: Stack) -> None:
    login = call("POST", f"{FLEET}/auth/login", json={"email": "demo@fleet.example", "password": "demo-password"})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    run = f"{int(time.time())}-{os.getpid()}"
    pairs = []
    for i in range(4 * len(VICTIMS)):
        driver = call("POST", f"{FLEET}/drivers", token, json={"name": f"D {i}", "licenseNumber": f"F-{run}-{i}"})
        load = call("POST", f"{FLEET}/loads", token, json={"origin": "A", "destination": f"B{i}", "cargoType": "c"})
        assert driver.status_code == 201 and load.status_code == 201, (driver.text, load.text)
        pairs.append((driver.json()["id"], load.json()["id"]))
    todo = iter(pairs)
    assigned: list[str] = []

    def assign() -> None:
        driver_id, load_id = next(todo)
        answer = call("POST", f"{FLEET}/assignments", token, json={"driverId": driver_id, "loadId": load_id})
        # 409 only when an earlier attempt of this very call committed before its answer was lost.
        assert answer.status_code in (201, 409), answer.text
        assigned.append(load_id)

    recovery = {}
    for name in VICTIMS:
        assign()
        assign()
        old = stack.pid(name)
        os.kill(old, signal.SIGKILL)
        assign()  # while it is down or restarting
        recovery[name] = stack.wait_back(name, old)
        assign()
    print("seconds until back and the stack ready:", {k: round(v, 1) for k, v in recovery.items()})

    def trail(load_id: str) -> list[str]:
        answer = call("GET", f"{AUDIT}/audit-events", token, params={"loadId": load_id})
        assert answer.status_code == 200, answer.text
        return [item["type"] for item in answer.json()["items"]]

    deadline = time.monotonic() + 90
    missing = assigned
    while missing and time.monotonic() < deadline:
        missing = [load_id for load_id in assigned if "load.assigned" not in trail(load_id)]
        time.sleep(1)
    assert not missing, f"{len(missing)} of {len(assigned)} assignments never reached the audit trail"
    time.sleep(2)  # a late redelivery would show now
    trails = {load_id: trail(load_id) for load_id in assigned}
    assert all(types == ["load.assigned"] for types in trails.values()), trails
