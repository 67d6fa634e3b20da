"""The loops each worker runs: the processor sends what is due by itself; the day's batch runs once."""

from __future__ import annotations

import time

import pytest
from bakery_service.wiring import background

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE

pytestmark = pytest.mark.integration


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_the_loops_send_actions_and_run_the_days_batch_once(make_settings, fakes, client, outbox) -> None:
    from bakery_service.adapters.login import LoginForwarder
    from bakery_service.wiring import Dependencies
    from servicekit.db import make_engine

    # The batch hour is 0, so a process starting now has today's batch to catch up on.
    settings = make_settings(schedule_enabled=True, integration_poll_seconds=0.05, jira_batch_hour_utc=0)
    client.post("/cakes", json=CHOCOLATE_CAKE)
    order = client.post("/orders", json=BRIEF_ORDER).get_json()
    engine = make_engine(settings.database_url, pool_size=2)
    deps = Dependencies(settings, engine, fakes, LoginForwarder(settings.auth_login_url))
    workers = [background(deps), background(deps)]  # two worker processes' worth
    for worker in workers:
        worker.start()
    try:
        wait_for(lambda: client.get(f"/orders/{order['id']}").get_json()["ticket_key"] is not None)
        client.delete(f"/orders/{order['id']}")
        wait_for(lambda: [a["state"] for a in outbox("drive")] == ["done"])
    finally:
        for worker in workers:
            worker.close()
        engine.dispose()
    assert len(outbox("jira")) == 1 and len(fakes.jira.named("create_ticket")) == 1
    assert fakes.drive.named("generate_id") == [()] and fakes.drive.named("append_line")[0][0] == "doc-1"
