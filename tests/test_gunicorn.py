"""Each service starts under its gunicorn configuration and /metrics adds up every worker."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from suite_support import ROOT, SERVICES, offline_env
from testkit.servers import free_port, start_gunicorn, stop_process

pytestmark = pytest.mark.integration
REQUESTS = 40
# audit-worker keeps its in-memory trail in one process, so it runs a single worker on purpose.
WORKERS = {"audit-worker": 1}


@pytest.mark.parametrize("service", list(SERVICES))
def test_metrics_count_requests_of_all_workers(service, tmp_path) -> None:
    port = free_port()
    env = {
        **offline_env(free_port()),
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "LOG_DIR": str(tmp_path / "logs"),
    }
    proc = start_gunicorn(ROOT / service, port=port, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        time.sleep(0.5)  # both workers booted
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda _: requests.get(f"{base}/openapi.json", timeout=15).status_code, range(REQUESTS))
            )
        assert statuses == [200] * REQUESTS
        text = requests.get(f"{base}/metrics", timeout=15).text
        counts = [
            float(v)
            for v in re.findall(
                r'^flask_http_request_duration_seconds_count\{[^}]*endpoint="servicekit\.openapi"[^}]*\} (\S+)$',
                text,
                re.MULTILINE,
            )
        ]
        assert sum(counts) == REQUESTS
        writers = {re.sub(r"\D", "", path.name) for path in (tmp_path / "metrics").iterdir()}
        expected = WORKERS.get(service, 2)
        assert len(writers) >= expected, f"metrics files of {expected} workers expected, found {writers}"
    finally:
        stop_process(proc)


def test_a_missing_setting_stops_gunicorn_with_one_clear_line(tmp_path) -> None:
    """Not a worker respawned forever: the master stops, and the log names the setting."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("JWT_SECRET")}
    env.update({"PORT": str(free_port()), "HOST": "127.0.0.1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    result = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"],
        cwd=ROOT / "gpt-service",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("configuration error")]
    assert lines and set(lines) == {"configuration error: missing required setting JWT_SECRET (or JWT_SECRET_FILE)"}


def test_workers_leave_with_a_killed_master(tmp_path) -> None:
    """A supervisor restarting a SIGKILLed master needs the port back: the workers must not linger."""
    import os
    import signal

    port = free_port()
    env = {
        **offline_env(free_port()),
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "LOG_DIR": str(tmp_path / "logs"),
    }
    proc = start_gunicorn(ROOT / "gpt-service", port=port, env=env)
    try:
        # Both workers booted, each with the app loaded: it writes its metrics files, named by its pid, as it
        # builds the app (a busy machine has taken seconds to get there).
        metrics = tmp_path / "metrics"
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline:
            workers = [
                int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent_of(int(p.name)) == proc.pid
            ]
            loaded = [w for w in workers if metrics.is_dir() and any(metrics.glob(f"*_{w}.db"))]
            if len(workers) == 2 and loaded == workers:
                break
            time.sleep(0.05)
        assert len(workers) == 2 and all(any(metrics.glob(f"*_{w}.db")) for w in workers), workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
        deadline = time.monotonic() + 3
        while [w for w in workers if _running(w)] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [w for w in workers if _running(w)], "workers outlived their master by more than 3 s"
    finally:
        stop_process(proc)


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "\nState:\tZ" not in status.read()
    except OSError:
        return False
