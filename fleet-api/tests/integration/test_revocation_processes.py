"""R9 across processes, as deployed: fleet-api under gunicorn with two workers and audit-worker under gunicorn,
both on one token-version hash. Once the admin's DELETE or PATCH has answered, the very next requests with the
user's token are refused by every worker of both services (each keeps its own copy of the versions)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from servicekit.revocation import HASH_KEY
from testkit.servers import free_port, start_gunicorn, stop_process

from ..conftest import JWT_SECRET

pytestmark = pytest.mark.integration
FLEET_DIR = Path(__file__).resolve().parents[2]
AUDIT_DIR = FLEET_DIR.parent / "audit-worker"
ADMIN_EMAIL, ADMIN_PASSWORD = "gunicorn-root@fleet.example", "root-password-1"


@pytest.fixture(scope="module")
def services(migrated_db_url: str, redis_url: str) -> Iterator[tuple[str, str]]:
    from fleet_api.adapters.passwords import hash_password
    from sqlalchemy import create_engine, text

    auth_redis = redis_url.rsplit("/", 1)[0] + "/8"
    redis.Redis.from_url(auth_redis).delete(HASH_KEY)
    engine = create_engine(migrated_db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM fleet.users WHERE email = :email"), {"email": ADMIN_EMAIL})
        conn.execute(
            text("INSERT INTO fleet.users (name, email, password_hash, role) VALUES ('Root', :email, :hash, 'admin')"),
            {"email": ADMIN_EMAIL, "hash": hash_password(ADMIN_PASSWORD)},
        )
    engine.dispose()
    common = {"JWT_SECRET": JWT_SECRET, "AUTH_REDIS_URL": auth_redis, "LOG_LEVEL": "WARNING"}
    fleet_port, audit_port = free_port(), free_port()
    fleet = start_gunicorn(
        FLEET_DIR,
        port=fleet_port,
        ready_path="/readyz",
        env={
            **common,
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
            "DATABASE_URL": migrated_db_url,
            "REDIS_URL": redis_url,
            "DEMO_USER_PASSWORD": "",
            "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="fleet-metrics-"),
        },
    )
    try:
        audit = start_gunicorn(
            AUDIT_DIR,
            port=audit_port,
            env={
                **common,
                "AUDIT_STORE": "memory",
                "AUDIT_CONSUMER": "off",
                "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="audit-metrics-"),
            },
        )
        try:
            yield f"http://127.0.0.1:{fleet_port}", f"http://127.0.0.1:{audit_port}"
        finally:
            stop_process(audit, timeout=20)
    finally:
        stop_process(fleet, timeout=20)


def login(fleet: str, email: str, password: str) -> dict[str, str]:
    answer = requests.post(f"{fleet}/auth/login", json={"email": email, "password": password}, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def answers(services: tuple[str, str], headers: dict[str, str], rounds: int = 12) -> set[int]:
    """Fresh connections each time, so that gunicorn hands them to both of fleet-api's workers."""
    fleet, audit = services
    seen = set()
    for _ in range(rounds):
        seen.add(requests.get(f"{fleet}/loads", headers=headers, timeout=30).status_code)
        seen.add(requests.get(f"{audit}/audit-events", headers=headers, timeout=30).status_code)
    return seen


@pytest.mark.parametrize("revoke", ["delete", "demote"])
def test_every_worker_of_every_service_refuses_the_token_right_after_the_admin_is_answered(services, revoke) -> None:
    fleet, _ = services
    admin = login(fleet, ADMIN_EMAIL, ADMIN_PASSWORD)
    email, password = f"proc-{uuid.uuid4().hex[:8]}@fleet.example", "user-password-1"
    role = "admin" if revoke == "demote" else "user"
    body = {"name": "P", "email": email, "password": password, "role": role}
    created = requests.post(f"{fleet}/users", json=body, headers=admin, timeout=30)
    assert created.status_code == 201, created.text
    user = login(fleet, email, password)
    assert answers(services, user) == {200}  # every worker now holds a copy with this user in it

    if revoke == "delete":
        done = requests.delete(f"{fleet}/users/{created.json()['id']}", headers=admin, timeout=30)
        assert done.status_code == 204
    else:
        done = requests.patch(f"{fleet}/users/{created.json()['id']}", json={"role": "user"}, headers=admin, timeout=30)
        assert done.status_code == 200
    assert answers(services, user) == {401}
