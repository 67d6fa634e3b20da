"""Each service starts under its gunicorn configuration and /metrics adds up every worker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from servicekit.testing.servers import free_port, wait_for_port
from suite_support import ROOT, SERVICES, offline_env

pytestmark = pytest.mark.integration
REQUESTS = 40
# audit-worker keeps its in-memory trail in one process, so it runs a single worker on purpose.
WORKERS = {"audit-worker": 1}


@pytest.mark.parametrize("service", list(SERVICES))
def test_metrics_count_requests_of_all_workers(service, tmp_path) -> None:
    port = free_port()
    env = {**os.environ, **offline_env(free_port()), "PORT": str(port), "HOST": "127.0.0.1",
           "WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "LOG_DIR": str(tmp_path / "logs")}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py"], cwd=ROOT / service, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, 30, proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while requests.get(f"{base}/healthz", timeout=15).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # both workers booted
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: requests.get(f"{base}/openapi.json", timeout=15).status_code,
                                     range(REQUESTS)))
        assert statuses == [200] * REQUESTS
        text = requests.get(f"{base}/metrics", timeout=15).text
        counts = [float(v) for v in re.findall(
            r'^flask_http_request_duration_seconds_count\{[^}]*endpoint="servicekit\.openapi"[^}]*\} (\S+)$',
            text, re.MULTILINE)]
        assert sum(counts) == REQUESTS
        writers = {re.sub(r"\D", "", path.name) for path in (tmp_path / "metrics").iterdir()}
        expected = WORKERS.get(service, 2)
        assert len(writers) >= expected, f"metrics files of {expected} workers expected, found {writers}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
