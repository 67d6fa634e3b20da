"""A frozen Redis (SIGSTOP, as a stalled server or a network black hole looks): writes stay fast, /readyz
stays 200, reads come from Postgres; once Redis resumes (SIGCONT) the owed invalidation is applied before
the cache is used again, so no page cached before the outage is served."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from pydantic import SecretStr
from servicekit import close_app
from testkit.servers import free_port, stop_process, wait_for_port

from ..conftest import deps_of

pytestmark = pytest.mark.integration


@pytest.fixture()
def own_redis():
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, 10, proc)
    yield proc, f"redis://127.0.0.1:{port}/0"
    os.kill(proc.pid, signal.SIGCONT)
    stop_process(proc)


@pytest.fixture()
def breaker_app(settings, own_redis):
    from fleet_api import create_app

    _, url = own_redis
    app = create_app(settings.model_copy(update={"redis_url": SecretStr(url)}))
    yield app
    close_app(app)


def _total(client, auth) -> tuple[int, str]:
    answer = client.get("/loads?limit=50", headers=auth)
    assert answer.status_code == 200
    return answer.get_json()["total"], answer.headers["X-Cache"]


def test_a_frozen_redis_slows_no_write_flaps_no_readiness_and_serves_no_stale_page(breaker_app, own_redis, auth):
    proc, _ = own_redis
    client = breaker_app.test_client()
    cache = deps_of(breaker_app).cache
    new_load = {"origin": "Austin, TX", "destination": "Dallas, TX", "cargoType": "steel"}
    assert client.post("/loads", json=new_load, headers=auth).status_code == 201
    assert _total(client, auth) == (1, "MISS")
    assert _total(client, auth) == (1, "HIT")

    from prometheus_client import REGISTRY

    def transitions(state: str) -> float:
        return REGISTRY.get_sample_value("fleet_loads_cache_breaker_transitions_total", {"state": state}) or 0.0

    opened, closed = transitions("open"), transitions("closed")
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        durations = []
        for _ in range(6):
            started = time.monotonic()
            assert client.post("/loads", json=new_load, headers=auth).status_code == 201
            durations.append(time.monotonic() - started)
        # The first write meets the socket timeout and opens the breaker; the others do not wait on Redis.
        assert cache.breaker_open and transitions("open") == opened + 1
        assert max(durations[1:]) < 0.5, durations
        assert _total(client, auth) == (7, "MISS")  # from Postgres, not the page cached before the freeze
        for _ in range(3):
            started = time.monotonic()
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.get_json()
            assert ready.get_json()["checks"]["redis"]["reachable"] is False
            assert time.monotonic() - started < 1.5
    finally:
        os.kill(proc.pid, signal.SIGCONT)

    deadline = time.monotonic() + 10
    while cache.breaker_open and time.monotonic() < deadline:
        assert _total(client, auth)[0] == 7
        time.sleep(0.1)
    assert not cache.breaker_open, "the breaker did not close after Redis resumed"
    assert transitions("closed") == closed + 1
    assert [_total(client, auth) for _ in range(3)] == [(7, "MISS"), (7, "HIT"), (7, "HIT")]
    assert client.get("/readyz").get_json()["checks"]["redis"]["reachable"] is True
