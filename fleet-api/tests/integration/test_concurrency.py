"""R1: one active load per driver holds under simultaneous requests to a real multi-worker server.

The requests go out together (a barrier releases them), to two gunicorn workers with four threads
each, so the database's partial unique indexes are what stands between them and a double booking.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from ..conftest import unique

pytestmark = pytest.mark.integration


def _post_all(url: str, auth: dict, bodies: list[dict], threads: int) -> list[int]:
    barrier = threading.Barrier(min(threads, len(bodies)))
    session_local = threading.local()

    def attempt(index_body):
        index, body = index_body
        if index < barrier.parties:
            barrier.wait()
        session = getattr(session_local, "s", None) or requests.Session()
        session_local.s = session
        response = session.post(f"{url}/assignments", json=body, headers=auth, timeout=60)
        assert response.status_code in (201, 409), response.text
        return response.status_code

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(attempt, enumerate(bodies)))


def _create(url, auth, path, body):
    response = requests.post(f"{url}{path}", json=body, headers=auth, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _active(fleet_db: str) -> list[dict]:
    engine = create_engine(fleet_db)
    with engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                text("SELECT driver_id, load_id FROM fleet.driver_load_assignments WHERE status = 'ASSIGNED'")
            ).mappings()
        ]
    engine.dispose()
    return rows


def test_many_loads_for_one_driver_at_once_give_one_201(gunicorn_url, auth, fleet_db):
    driver = _create(gunicorn_url, auth, "/drivers", {"name": "Ann", "licenseNumber": unique("LIC")})
    loads = [
        _create(gunicorn_url, auth, "/loads", {"origin": f"O{i}", "destination": "D", "cargoType": "c"})
        for i in range(40)
    ]
    statuses = _post_all(gunicorn_url, auth, [{"driverId": driver, "loadId": load} for load in loads], 40)
    assert statuses.count(201) == 1
    assert statuses.count(409) == len(loads) - 1
    active = _active(fleet_db)
    assert len(active) == 1 and str(active[0]["driver_id"]) == driver


def test_a_thousand_simultaneous_attempts_never_double_book(gunicorn_url, auth, fleet_db):
    drivers = [
        _create(gunicorn_url, auth, "/drivers", {"name": f"D{i}", "licenseNumber": unique("LIC")}) for i in range(25)
    ]
    loads = [
        _create(gunicorn_url, auth, "/loads", {"origin": f"O{i}", "destination": "D", "cargoType": "c"})
        for i in range(40)
    ]
    pairs = [{"driverId": d, "loadId": x} for x, d in itertools.product(loads, drivers)]
    statuses = _post_all(gunicorn_url, auth, pairs, 32)
    assert len(statuses) == 1000
    active = _active(fleet_db)
    assert statuses.count(201) == len(active) >= 1
    assert statuses.count(409) == 1000 - len(active)
    assert len({r["driver_id"] for r in active}) == len(active), "a driver holds two active loads"
    assert len({r["load_id"] for r in active}) == len(active), "a load has two active drivers"
