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
        deadline = time.monotonic() + 20
        while requests.get(f"{base}/healthz", timeout=5).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # both workers booted
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: requests.get(f"{base}/openapi.json", timeout=5).status_code,
                                     range(REQUESTS)))
        assert statuses == [200] * REQUESTS
        text = requests.get(f"{base}/metrics", timeout=5).text
        counts = [float(v) for v in re.findall(
            r'^flask_http_request_duration_seconds_count\{[^}]*endpoint="servicekit\.openapi"[^}]*\} (\S+)$',
            text, re.MULTILINE)]
        assert sum(counts) == REQUESTS
        pids = {line for line in (tmp_path / "metrics").iterdir()}
        assert len({re.sub(r"\D", "", p.name) for p in pids}) >= 2, "metrics files of two workers expected"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
