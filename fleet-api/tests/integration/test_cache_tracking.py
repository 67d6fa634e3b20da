"""The per-process copies of GET /loads stay correct across gunicorn workers: after a write returns,
no worker answers with the old list."""

from __future__ import annotations

import pytest
import requests

from ..conftest import unique

pytestmark = pytest.mark.integration


def _get(url, auth):
    # No session: each request opens a connection of its own, so both workers answer some.
    response = requests.get(f"{url}/loads?limit=5", headers=auth, timeout=30)
    assert response.status_code == 200
    return response


def test_writes_are_seen_by_every_worker_at_once(gunicorn_url, auth, fleet_db):
    load = requests.post(
        f"{gunicorn_url}/loads",
        json={"origin": "v0", "destination": unique("D"), "cargoType": "c"},
        headers=auth,
        timeout=30,
    ).json()
    sources = {_get(gunicorn_url, auth).headers["X-Cache-Source"] for _ in range(30)}
    assert "local" in sources  # the warm path is really the in-process copy
    for version in range(1, 16):
        changed = requests.patch(
            f"{gunicorn_url}/loads/{load['id']}", json={"origin": f"v{version}"}, headers=auth, timeout=30
        )
        assert changed.status_code == 200
        for _ in range(6):
            origins = {x["origin"] for x in _get(gunicorn_url, auth).json()["items"] if x["id"] == load["id"]}
            assert origins == {f"v{version}"}


def test_a_redis_flush_drops_every_workers_copy(gunicorn_url, auth, redis_url, fleet_db):
    import redis
    from sqlalchemy import create_engine, text

    requests.post(
        f"{gunicorn_url}/loads",
        json={"origin": "a", "destination": "b", "cargoType": "c"},
        headers=auth,
        timeout=30,
    )
    before = {_get(gunicorn_url, auth).json()["total"] for _ in range(10)}
    assert before == {1}
    redis.Redis.from_url(redis_url).flushdb()
    # A row Redis never hears of: only the flush's push can make the workers drop their copies.
    engine = create_engine(fleet_db)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO fleet.loads (origin, destination, cargo_type) VALUES ('x', 'y', 'z')"))
    engine.dispose()
    assert {_get(gunicorn_url, auth).json()["total"] for _ in range(10)} == {2}
