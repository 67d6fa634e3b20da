"""A real fleet-api under gunicorn (two workers, as deployed) for the tests that need processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from servicekit.testing.servers import free_port, wait_for_port

from ..conftest import JWT_SECRET

SERVICE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="package")
def gunicorn_url(migrated_db_url: str, redis_url: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "DATABASE_URL": migrated_db_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": JWT_SECRET,
        "DEMO_USER_PASSWORD": "",
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="fleet-metrics-"),
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"],
        cwd=SERVICE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=30, proc=proc)
        url = f"http://127.0.0.1:{port}"
        # gunicorn listens before its workers have imported the app; on a busy machine that takes a while.
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{url}/readyz", timeout=30).ok:
                    break
            except requests.RequestException:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"fleet-api at {url} not ready after 90 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
