"""bakery-service as deployed: gunicorn with two workers, the real wiring, the background loops on."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from testkit.servers import free_port, start_gunicorn, stop_process

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE, JWT_SECRET

pytestmark = pytest.mark.integration
SERVICE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture()
def service_url(bakery_db: str) -> Iterator[str]:
    port = free_port()
    env = {
        "WEB_CONCURRENCY": "2",
        "DATABASE_URL": bakery_db,
        "JWT_SECRET": JWT_SECRET,
        "LOG_LEVEL": "WARNING",
        "SCHEDULE_ENABLED": "true",
        "INTEGRATION_POLL_SECONDS": "0.2",
        "JIRA_WEBHOOK_SECRET": "",
        "SLACK_BOT_TOKEN": "",
        "SMTP_HOST": "",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bakery-metrics-"),
    }
    proc = start_gunicorn(SERVICE_DIR, port=port, env=env, ready_path="/readyz")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, timeout=20)


def test_the_page_and_the_api_under_gunicorn(service_url: str) -> None:
    from bakery_service.settings import Settings
    from servicekit import issue_token

    token = issue_token(Settings(jwt_secret=JWT_SECRET, database_url="postgresql://unused"), "baker")[0]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    home = requests.get(service_url + "/", timeout=10)
    assert home.status_code == 200 and home.url.endswith("/ui") and "<h1>Bakery</h1>" in home.text
    # The page's security headers come through gunicorn too.
    assert "frame-ancestors 'none'" in home.headers["Content-Security-Policy"]
    assert home.headers["X-Content-Type-Options"] == "nosniff" and home.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(service_url + "/static/bakery.js", timeout=10).status_code == 200
    assert http.post(service_url + "/cakes", json=CHOCOLATE_CAKE, timeout=10).status_code == 201
    order = http.post(service_url + "/orders", json=BRIEF_ORDER, timeout=10).json()
    http.post(f"{service_url}/orders/{order['id']}/ready", timeout=10)
    http.delete(f"{service_url}/orders/{order['id']}", timeout=10)
    time.sleep(1)  # several processor rounds: without credentials nothing is sent, nothing is lost
    states = {i["name"]: i for i in http.get(service_url + "/integrations", timeout=10).json()["items"]}
    for name in ("email", "drive"):
        # Disabled, not pending: held apart, so that nothing waits "too long" on a stack without credentials.
        assert (states[name]["status"], states[name]["pending"], states[name]["held"]) == ("disabled", 0, 1)
    webhook = requests.post(service_url + "/webhooks/jira", data=b"{}", timeout=10)
    assert webhook.status_code == 401 and "not configured" in webhook.json()["detail"]
    metrics = requests.get(service_url + "/metrics", timeout=10).text
    assert 'bakery_orders_total{event="placed"}' in metrics
    assert re.search(r'^bakery_held_actions\{integration="drive"\} 1\.0$', metrics, re.MULTILINE), metrics
    assert re.search(r'^bakery_oldest_pending_action_age_seconds\{integration="drive"\} 0\.0$', metrics, re.MULTILINE)
