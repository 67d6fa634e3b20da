"""The process's life: build_dependencies builds and starts nothing, create_app starts the background parts (the demo
user's seeding, the token-version keeper) and servicekit.close_app stops them; against real Postgres and Redis."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from pydantic import SecretStr
from servicekit.revocation import HASH_KEY
from sqlalchemy import create_engine, text
from testkit.lifecycle import assert_closed_for_good

from ..conftest import DEMO_EMAIL, DEMO_PASSWORD, FLEET_TABLES, deps_of

pytestmark = pytest.mark.integration
KEEPER = "token-versions-keeper"


@pytest.fixture()
def auth_settings(settings, redis_url):
    """The settings with AUTH_REDIS_URL set (its own Redis database, emptied), so the keeper has work to do."""
    url = redis_url.rsplit("/", 1)[0] + "/6"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield settings.model_copy(update={"auth_redis_url": SecretStr(url)})
    client.flushdb()
    client.close()


def keepers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == KEEPER and thread.is_alive()]


def table_counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - constants
                for table in FLEET_TABLES
            }
    finally:
        engine.dispose()


def redis_contents(url: str) -> dict[bytes, bytes]:
    """Every key of the database with a digest of its value: a write of any kind changes it."""
    client = redis.Redis.from_url(url)
    try:
        return {key: client.dump(key) or b"" for key in client.scan_iter(count=1000)}
    finally:
        client.close()


def demo_role(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT role FROM fleet.users WHERE email = :email"), {"email": DEMO_EMAIL}
            ).scalar_one_or_none()
    finally:
        engine.dispose()


@pytest.mark.demo_user
def test_build_dependencies_starts_no_thread_opens_no_connection_and_writes_nothing(auth_settings, fleet_db) -> None:
    from fleet_api.wiring import build_dependencies

    cache_url = auth_settings.redis_url.get_secret_value()
    auth_url = auth_settings.auth_redis_url.get_secret_value()
    threads, rows = set(threading.enumerate()), table_counts(fleet_db)
    cache_keys, auth_keys = redis_contents(cache_url), redis_contents(auth_url)

    deps = build_dependencies(auth_settings)
    try:
        assert set(threading.enumerate()) == threads
        # The pool holds no connection: none was opened to build.
        assert deps.engine.pool.checkedin() == 0 and deps.engine.pool.checkedout() == 0
        assert table_counts(fleet_db) == rows
        assert demo_role(fleet_db) is None  # the demo user is a start-up step, not the builder's
        assert redis_contents(cache_url) == cache_keys
        assert redis_contents(auth_url) == auth_keys
    finally:
        deps.close()


@pytest.mark.demo_user
def test_create_app_starts_the_background_parts_and_close_app_stops_them(auth_settings, fleet_db) -> None:
    from fleet_api import create_app
    from fleet_api.wiring import build_dependencies
    from servicekit import close_app
    from servicekit.lifecycle import lifecycle_of

    assert keepers() == []
    deps = build_dependencies(auth_settings)
    app = create_app(auth_settings, deps)
    try:
        lifecycle = lifecycle_of(app)
        assert lifecycle is not None and lifecycle.running
        # The demo user was seeded before the app was handed out, and the keeper wrote the whole hash.
        assert demo_role(fleet_db) == "admin" and deps.demo_user.seeded
        assert len(keepers()) == 1
        auth = redis.Redis.from_url(auth_settings.auth_redis_url.get_secret_value())
        try:
            deadline = time.monotonic() + 10
            while not auth.exists(HASH_KEY) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert auth.exists(HASH_KEY), "the keeper did not write the token-version hash"
        finally:
            auth.close()
        login = app.test_client().post("/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
        assert login.status_code == 200, login.get_json()
    finally:
        close_app(app)
    assert keepers() == []
    assert_closed_for_good(app)


@pytest.mark.demo_user
def test_without_its_background_the_app_still_seeds_the_demo_user_at_the_first_login(auth_settings, fleet_db) -> None:
    from fleet_api import create_app
    from servicekit import close_app

    app = create_app(auth_settings, start_background=False)
    try:
        assert keepers() == []
        assert demo_role(fleet_db) is None
        login = app.test_client().post("/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
        assert login.status_code == 200, login.get_json()
        assert demo_role(fleet_db) == "admin"
    finally:
        close_app(app)
        deps_of(app).close()  # never started, so the lifecycle has nothing of its own to close
