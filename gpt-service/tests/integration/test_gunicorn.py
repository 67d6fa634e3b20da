"""gpt-service as it runs in production: gunicorn workers, called over HTTP with a service token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from servicekit import service_token
from testkit.servers import free_port, wait_for_port

pytestmark = pytest.mark.integration
SERVICE_DIR = Path(__file__).resolve().parents[2]


@contextmanager
def _serve(tmp_path, **settings: str):
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "JWT_SECRET": "gunicorn-test-secret-0123456789abcdef",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "LOG_DIR": str(tmp_path / "logs"),
        **settings,
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


@pytest.fixture()
def gunicorn(fake_openai, tmp_path):
    secret_file = tmp_path / "openai_api_key"
    secret_file.write_text("sk-from-a-secret-file\n")
    with _serve(tmp_path, OPENAI_API_KEY_FILE=str(secret_file), OPENAI_BASE_URL=fake_openai.base_url) as served:
        yield served


def _headers(env) -> dict[str, str]:
    from gpt_service.settings import Settings

    token = service_token(Settings(jwt_secret=env["JWT_SECRET"], service_name="automation-service"))
    return {"Authorization": f"Bearer {token}"}


def _sample(metrics: str, series: str) -> float | None:
    for line in metrics.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def test_summaries_over_http_under_gunicorn(gunicorn, fake_openai, loads, tmp_path):
    base, env = gunicorn
    headers = _headers(env)

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


def test_without_a_key_the_model_state_says_so_and_fallbacks_carry_their_reason(tmp_path, loads):
    """What a default stack exports (the input of the promtool test that keeps SummariesDegraded quiet there):
    gpt_model_configured 0, each summary a fallback with reason no_api_key, every other reason at zero."""
    with _serve(tmp_path) as (base, env):
        # The first answer waits for a worker to boot (seconds on a busy machine).
        before = requests.get(f"{base}/metrics", timeout=60).text
        assert _sample(before, "gpt_model_configured") == 0
        assert _sample(before, 'gpt_fallbacks_total{reason="timeout"}') == 0
        assert _sample(before, 'gpt_fallbacks_total{reason="no_api_key"}') == 0
        response = requests.post(f"{base}/summarize-loads", json={"loads": loads}, headers=_headers(env), timeout=30)
        assert response.status_code == 200 and response.json()["degraded"] is True
        after = requests.get(f"{base}/metrics", timeout=10).text
        assert _sample(after, 'gpt_fallbacks_total{reason="no_api_key"}') == 1
        assert _sample(after, 'gpt_summarize_requests_total{outcome="fallback"}') == 1
        assert _sample(after, 'gpt_fallbacks_total{reason="timeout"}') == 0
        log = (tmp_path / "logs" / "gpt-service.log").read_text()
        # A documented state, said once at start and at info level with each answer: not a warning.
        assert '"level": "info"' in log and "no OpenAI API key" in log
        assert not [line for line in log.splitlines() if '"level": "warning"' in line and "no_api_key" in line]
