"""The harness of the tests that run against the local stack on its fixed ports.

`running_local_stack` starts it (`localstack.py up` in a state folder of its own), yields a `Stack`
(supervisord's view: a process's pid, waiting until a killed one is back, `make down` then `make up` on the same
folder) and, on the way out, runs the checks of a whole session, stops it and proves that no process or port is
left behind. `make test` starts it once, through the session fixture `local_stack` of tests/conftest.py, for the
stack's own tests, the live dashboards, the kill tests and every end-to-end test.

Whatever starts the stack must hold `flock /tmp/suite-localstack.lock`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import tempfile
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from suite_support import ROOT, SERVICES

PYTHON = str(ROOT / ".venv/bin/python")
STACK_PORTS = [5432, 6379, 4566, 9090, 3000, 8010, *SERVICES.values()]
# What answers once each process is back, beyond every service's /readyz.
PROBES = {
    "prometheus": "http://127.0.0.1:9090/-/ready",
    "maildev": "http://127.0.0.1:8025/api/healthz",
    "aws": "http://127.0.0.1:4566/",
    "loadboard-sim": "http://127.0.0.1:8010/healthz",
    "fleet-relay": "http://127.0.0.1:9101/metrics",
}
ISSUED_TOKENS: list[str] = []  # every token of the session, looked for in the logs at the end
LOAD_ID = re.compile(r"\b(JBH\d{7}|LS\d{7})\b")


def login() -> str:
    answer = requests.post(
        "http://127.0.0.1:8001/auth/login",
        timeout=10,
        json={"email": "demo@fleet.example", "password": "demo-password"},
    )
    assert answer.status_code == 200, answer.text
    ISSUED_TOKENS.append(answer.json()["access_token"])
    return answer.json()["access_token"]


def model_answer(request: dict) -> dict:
    """What the stack's OpenAI-compatible fake answers: a plausible summary that notes every load id in the
    prompt, as the model is asked to."""
    prompt = json.dumps(request.get("messages") or request.get("input") or "")
    ids = list(dict.fromkeys(LOAD_ID.findall(prompt)))
    return {
        "summary": "Rates are firm on the southern lanes.",
        "insights": ["Texas outbound pays best."],
        "price_trends": [],
        "route_suggestions": [],
        "notes": [
            {
                "portal": "jbhunt" if i.startswith("JBH") else "landstar",
                "load_id": i,
                "score": 0.5,
                "note": f"note on {i}",
            }
            for i in ids
        ],
    }


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


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


class Stack:
    def __init__(self, state_dir: Path, env: dict[str, str] | None = None, up_output: str = "", model=None):
        from supervisor.xmlrpc import SupervisorTransport

        self.state_dir = state_dir
        # What `make up` ran with (the model's address among it): a `make up` again gets the same.
        self.env = env if env is not None else {**os.environ, "SUITE_STATE_DIR": str(state_dir)}
        self.up_output = up_output
        self.model = model
        transport = SupervisorTransport(None, None, f"unix://{state_dir / 'supervisor.sock'}")
        self.rpc = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def pid(self, name: str) -> int:
        return self.rpc.getProcessInfo(name)["pid"]

    def supervised_pids(self) -> set[int]:
        """supervisord and every process it runs, with their children (gunicorn workers, postgres backends)."""
        pids = {int((self.state_dir / "supervisord.pid").read_text())}
        for info in self.rpc.getAllProcessInfo():
            pids.add(info["pid"])
            pids.update(children_of(info["pid"]))
        return pids

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
        down = run_localstack("down", env=self.env, timeout=180)
        assert down.returncode == 0, down.stdout[-2000:] + down.stderr[-2000:]
        assert not [port for port in STACK_PORTS if port_in_use(port)], "make down left a port open"
        up = run_localstack("up", "--timeout", str(up_timeout), env=self.env, timeout=up_timeout + 180)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]


def run_localstack(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """`scripts/localstack.py <args>` (what `make up`/`make down` run without Docker), its output captured."""
    return subprocess.run(
        [PYTHON, "scripts/localstack.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


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


def secrets_found_in_logs(state_dir: Path) -> list[str]:
    """R5 over a whole run: every configured secret (each file the stack generated under secrets/, the demo
    password) and every token issued, looked for in every log any process of the stack wrote; and any log
    record that could not be written."""
    secrets = {f"secrets/{path.name}": path.read_text().strip() for path in (state_dir / "secrets").iterdir()}
    secrets["the demo password"] = "demo-password"
    secrets |= {f"token #{i}": token for i, token in enumerate(ISSUED_TOKENS)}
    assert all(len(value) >= 8 for value in secrets.values()), "a secret too short to look for"
    logs = [path for path in (state_dir / "logs").rglob("*") if path.is_file()]
    assert len(logs) >= 10, logs
    found = []
    for path in logs:
        text = path.read_text(errors="replace")
        found += [f"{what} in {path.relative_to(state_dir)}" for what, value in secrets.items() if value in text]
        if "--- Logging error ---" in text:
            found.append(f"a log record that could not be written in {path.relative_to(state_dir)}")
    return found


@contextlib.contextmanager
def running_local_stack(
    prefix: str,
    up_timeout: float,
    before_down: Callable[[Path], None] | None = None,
    env: dict[str, str] | None = None,
    model=None,
) -> Iterator[Stack]:
    """`localstack.py up` in a state folder of its own on the stack's fixed ports (with `env` added to this
    process's environment), then `down`, and proof that no process or port is left behind. ``before_down``
    checks the stack's files while it still runs."""
    busy = [port for port in STACK_PORTS if port_in_use(port)]
    if busy:
        pytest.skip(f"ports {busy} are taken (a running `make up`?); these tests need the stack's own ports")
    state_dir = Path(tempfile.mkdtemp(prefix=prefix))
    state_dir.chmod(0o755)  # the postgres user must reach its data folder
    stack_env = {**os.environ, **(env or {}), "SUITE_STATE_DIR": str(state_dir)}
    started = time.monotonic()
    up = run_localstack("up", "--timeout", str(up_timeout), env=stack_env, timeout=up_timeout + 180)
    pids: set[int] = set()
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        print(f"local stack up in {time.monotonic() - started:.1f}s")
        yield Stack(state_dir, stack_env, up.stdout, model)
        if before_down is not None:
            before_down(state_dir)
        pids = Stack(state_dir, stack_env).supervised_pids()
    finally:
        down = run_localstack("down", env=stack_env, timeout=180)
        subprocess.run(["python3", "-c", "import shutil,sys; shutil.rmtree(sys.argv[1], True)", str(state_dir)])
    assert down.returncode == 0, down.stderr
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if alive(pid)]
    assert not [port for port in STACK_PORTS if port_in_use(port)]
