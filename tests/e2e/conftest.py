"""One local stack for every end-to-end test of the session: `make e2e` (or `make test`) starts it on the
stack's fixed ports under `flock /tmp/suite-localstack.lock`, the tests run against it, and it is torn down
with no process left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from suite_support import ROOT
from test_local_stack import STACK_PORTS, alive, children_of, port_in_use
from test_local_stack_faults import Stack

sys.path.insert(0, str(Path(__file__).parent))  # e2e_support, a name of its own

from e2e_support import PYTHON, login, secrets_found_in_logs  # noqa: E402


@pytest.fixture(scope="session")
def stack():
    busy = [port for port in STACK_PORTS if port_in_use(port)]
    if busy:
        pytest.skip(f"ports {busy} are taken (a running `make up`?); the end-to-end tests need the stack's own ports")
    state_dir = Path(tempfile.mkdtemp(prefix="suite-e2e-"))
    state_dir.chmod(0o755)  # the postgres user must reach its data folder
    env = {**os.environ, "SUITE_STATE_DIR": str(state_dir)}
    started = time.monotonic()
    up = subprocess.run(
        [PYTHON, "scripts/localstack.py", "up", "--timeout", "240"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,  # a loaded 2-core machine has taken over 2 minutes to boot the six services' workers
    )
    pids: set[int] = set()
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        print(f"local stack up in {time.monotonic() - started:.1f}s")
        yield Stack(state_dir)
        leaks = secrets_found_in_logs(state_dir)
        assert not leaks, leaks
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


@pytest.fixture(scope="session")
def token(stack) -> str:
    return login()


@pytest.fixture()
def http(token) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session
