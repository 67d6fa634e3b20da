"""A real fleet-api under gunicorn (two workers, as deployed) for the tests that need processes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.servers import free_port, start_gunicorn, stop_process

from ..conftest import JWT_SECRET

SERVICE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="package")
def gunicorn_url(migrated_db_url: str, redis_url: str) -> Iterator[str]:
    port = free_port()
    env = {
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "DATABASE_URL": migrated_db_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": JWT_SECRET,
        "DEMO_USER_PASSWORD": "",
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="fleet-metrics-"),
    }
    proc = start_gunicorn(SERVICE_DIR, port=port, env=env, ready_path="/readyz")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, timeout=20)
