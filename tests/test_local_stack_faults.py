"""The harness of the tests that start the local stack on its fixed ports: `running_local_stack` (up in a state
folder of its own, then down, with proof that nothing is left running), `Stack` (supervisord's view: a
process's pid, waiting until a killed one is back, `make down` then `make up` on the same folder) and
`all_ready`. The end-to-end session (tests/e2e) runs one such stack for all its tests, the kill tests among them
(tests/e2e/test_kills.py).

Whatever starts the stack must hold `flock /tmp/suite-localstack.lock`.
"""

from __future__ import annotations

import contextlib
import os
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
PYTHON = str(ROOT / ".venv/bin/python")
# What answers once each process is back, beyond every service's /readyz.
PROBES = {
    "prometheus": "http://127.0.0.1:9090/-/ready",
    "maildev": "http://127.0.0.1:8025/api/healthz",
    "aws": "http://127.0.0.1:4566/",
    "loadboard-sim": "http://127.0.0.1:8010/healthz",
    "fleet-relay": "http://127.0.0.1:9101/metrics",
}


class Stack:
    def __init__(self, state_dir: Path):
        from supervisor.xmlrpc import SupervisorTransport

        self.state_dir = state_dir
        transport = SupervisorTransport(None, None, f"unix://{state_dir / 'supervisor.sock'}")
        self.rpc = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def pid(self, name: str) -> int:
        return self.rpc.getProcessInfo(name)["pid"]

    def wait_back(self, name: str, old_pid: int, timeout: float = 90) -> float:
        """Seconds until `name` runs again under a new pid, answers (PROBES), and every service answers /readyz
        200."""
        started = time.monotonic()
        deadline = started + timeout
        probe = PROBES.get(name.split(":")[-1])
        while time.monotonic() < deadline:
            info = self.rpc.getProcessInfo(name)
            if info["statename"] == "RUNNING" and info["pid"] not in (0, old_pid) and answers(probe) and all_ready():
                return time.monotonic() - started
            time.sleep(0.25)
        raise AssertionError(f"{name} not back within {timeout}s: {self.rpc.getProcessInfo(name)}")

    def names(self) -> list[str]:
        return [f"{info['group']}:{info['name']}" for info in self.rpc.getAllProcessInfo()]

    def down_and_up(self, up_timeout: float) -> None:
        """`make down` then `make up` on the same state folder."""
        env = {**os.environ, "SUITE_STATE_DIR": str(self.state_dir)}
        down = subprocess.run(
            [PYTHON, "scripts/localstack.py", "down"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert down.returncode == 0, down.stdout[-2000:] + down.stderr[-2000:]
        assert not [port for port in STACK_PORTS if port_in_use(port)], "make down left a port open"
        up = subprocess.run(
            [PYTHON, "scripts/localstack.py", "up", "--timeout", str(up_timeout)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=up_timeout + 180,
        )
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]


def answers(url: str | None) -> bool:
    if url is None:
        return True
    try:
        return requests.get(url, timeout=3).status_code == 200
    except requests.RequestException:
        return False


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
