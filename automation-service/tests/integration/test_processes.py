"""The service as it runs in the stack: gunicorn with two workers, the simulator under its own gunicorn
config, a real gpt-service: one run at a time across workers, and the metrics of a run."""

from __future__ import annotations

import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from automation_service.settings import Settings
from servicekit import issue_token
from sqlalchemy import create_engine, text
from testkit.servers import free_port, start_gunicorn, stop_process

pytestmark = pytest.mark.integration
SERVICE_DIR = Path(__file__).resolve().parents[2]
JWT_SECRET = "test-secret-of-automation-service-0123456789"


def _spawn(config: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    return start_gunicorn(SERVICE_DIR, port=port, env=env, config=config)


@pytest.fixture()
def stack(migrated_db_url, gpt_service_url):
    with create_engine(migrated_db_url).begin() as conn:
        conn.execute(text("TRUNCATE loadboard.summaries, loadboard.loads, loadboard.extraction_runs"))
    sim_port, service_port = free_port(), free_port()
    storage_root = tempfile.mkdtemp(prefix="artifacts-")
    procs = [_spawn("gunicorn.loadboard-sim.conf.py", sim_port, {"SIM_FAULTS": "landstar=layout"})]
    procs.append(
        _spawn(
            "gunicorn.conf.py",
            service_port,
            {
                "DATABASE_URL": migrated_db_url,
                "JWT_SECRET": JWT_SECRET,
                "GPT_SERVICE_URL": gpt_service_url,
                "JBHUNT_URL": f"http://127.0.0.1:{sim_port}/jbhunt",
                "LANDSTAR_URL": f"http://127.0.0.1:{sim_port}/landstar",
                "WEB_CONCURRENCY": "2",
                "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="prom-auto-"),
                "STORAGE_PROVIDER": "local",
                "STORAGE_LOCAL_ROOT": storage_root,
                "RETRY_BACKOFF_SECONDS": "0.05",
            },
        )
    )
    token = issue_token(Settings(database_url=migrated_db_url, jwt_secret=JWT_SECRET), "dispatcher")[0]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    try:
        yield f"http://127.0.0.1:{service_port}", session, Path(storage_root)
    finally:
        for proc in procs:
            stop_process(proc)


def test_concurrent_starts_on_two_workers_make_one_run(stack):
    url, session, storage_root = stack
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: session.post(f"{url}/runs", timeout=10), range(6)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [202, 409, 409, 409, 409, 409]
    run_id = next(a.json()["id"] for a in answers if a.status_code == 202)
    assert {a.json()["run_id"] for a in answers if a.status_code == 409} == {run_id}

    deadline = time.monotonic() + 60
    while (run := session.get(f"{url}/runs/{run_id}", timeout=5).json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert run["status"] == "partial" and run["loads_count"] == 20
    assert run["portals"]["landstar"]["error_kind"] == "layout"
    saved = {str(p.relative_to(storage_root)) for p in storage_root.rglob("*") if p.suffix in (".png", ".html")}
    assert set(run["portals"]["landstar"]["artifacts"]) <= saved and len(saved) == 2

    metrics = requests.get(f"{url}/metrics", timeout=5).text
    assert 'automation_runs_total{outcome="partial"} 1.0' in metrics
    assert 'automation_loads_extracted_total{portal="jbhunt"} 20.0' in metrics
    assert 'automation_browser_failures_total{outcome="layout",portal="landstar"} 1.0' in metrics
    assert 'automation_browser_launches_total{outcome="success"} 1.0' in metrics
    assert 'automation_gpt_calls_total{outcome="success"} 1.0' in metrics
    assert 'automation_run_duration_seconds_count{outcome="partial"} 1.0' in metrics
    assert 'automation_page_load_duration_seconds_count{portal="jbhunt"}' in metrics
    assert requests.get(f"{url}/readyz", timeout=5).status_code == 200
