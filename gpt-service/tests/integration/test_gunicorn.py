"""gpt-service as it runs in production: gunicorn workers, called over HTTP with a service token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from servicekit import service_token
from testkit.servers import free_port, wait_for_port

pytestmark = pytest.mark.integration
SERVICE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture()
def gunicorn(fake_openai, tmp_path):
    port = free_port()
    secret_file = tmp_path / "openai_api_key"
    secret_file.write_text("sk-from-a-secret-file\n")
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "JWT_SECRET": "gunicorn-test-secret-0123456789abcdef",
        "OPENAI_API_KEY_FILE": str(secret_file),
        "OPENAI_BASE_URL": fake_openai.base_url,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "LOG_DIR": str(tmp_path / "logs"),
    }
    env.pop("OPENAI_API_KEY", None)
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"],
        cwd=SERVICE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30, proc=proc)
        yield f"http://127.0.0.1:{port}", env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_summaries_over_http_under_gunicorn(gunicorn, fake_openai, loads, tmp_path):
    base, env = gunicorn
    from gpt_service.settings import Settings

    token = service_token(Settings(jwt_secret=env["JWT_SECRET"], service_name="automation-service"))
    headers = {"Authorization": f"Bearer {token}"}

    response = requests.post(f"{base}/summarize-loads", json={"loads": loads}, headers=headers, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] is False and body["model"] == fake_openai.MODEL
    assert fake_openai.seen[0].headers["authorization"] == "Bearer sk-from-a-secret-file"

    bad = requests.post(f"{base}/summarize-loads", json=[{"portal": "p"}], headers=headers, timeout=10)
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    assert requests.post(f"{base}/summarize-loads", json=loads, timeout=10).status_code == 401

    ready = requests.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 200 and "openai" not in ready.text.lower()
    metrics = requests.get(f"{base}/metrics", timeout=10).text
    assert 'gpt_summarize_requests_total{outcome="model"}' in metrics
    assert "sk-from-a-secret-file" not in metrics
    log = (tmp_path / "logs" / "gpt-service.log").read_text()
    assert "sk-from-a-secret-file" not in log and '"path": "/summarize-loads"' in log
