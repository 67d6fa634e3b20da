"""Fixtures of fleet-api's tests: settings on real servers, an app, a logged-in client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256"
DEMO_EMAIL = "demo@fleet.example"
DEMO_PASSWORD = "demo-password"
FLEET_TABLES = (
    "fleet.job_outbox",
    "fleet.load_events",
    "fleet.driver_load_assignments",
    "fleet.loads",
    "fleet.drivers",
    "fleet.users",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "demo_user: the app seeds the demo user (an argon2 hash, slow on purpose)")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture()
def fleet_db(migrated_db_url: str) -> Iterator[str]:
    """The migrated database, with fleet's tables emptied before the test."""
    engine = create_engine(migrated_db_url)
    with engine.begin() as conn:
        for table in FLEET_TABLES:  # DELETE: on a few rows far quicker than TRUNCATE
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - constant table names
    engine.dispose()
    yield migrated_db_url


@pytest.fixture()
def settings(fleet_db: str, redis_url: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """Without the demo user (its slow hash on every app), unless the test is marked ``demo_user``."""
    from fleet_api.settings import Settings

    monkeypatch.setenv("JOBS_PROVIDER", "inprocess")
    password = DEMO_PASSWORD if request.node.get_closest_marker("demo_user") else ""
    return Settings(
        database_url=fleet_db,
        redis_url=redis_url,
        jwt_secret=JWT_SECRET,
        demo_user_email=DEMO_EMAIL,
        demo_user_password=password,
    )


@pytest.fixture()
def app(settings):
    from fleet_api import create_app
    from fleet_api.adapters.cache import GENERATION_KEY
    from servicekit import close_app

    app = create_app(settings)
    deps_of(app).cache._redis.delete(GENERATION_KEY)  # pages of earlier tests stay out of sight
    forget_login_failures(settings.redis_url.get_secret_value())
    yield app
    close_app(app)


def deps_of(app):
    from fleet_api.wiring import Dependencies
    from servicekit import dependencies_of

    return dependencies_of(app, Dependencies)


def add_user(app, name: str, email: str, password_hash: str | None, role: str) -> dict:
    """A user written straight through the app's unit of work (no admin token needed)."""
    with deps_of(app).uow() as uow:
        user = uow.users.insert(name, email, password_hash, role)
        uow.commit()
    return user


def forget_login_failures(redis_url: str) -> None:
    """Failed logins of earlier tests (all from the test client's 127.0.0.1) would throttle this one's."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match="fleet:login:failures:*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.ConnectionError:
        pass  # a test of an unreachable Redis: nothing to forget
    finally:
        client.close()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def token(settings) -> str:
    """The demo admin's token as /auth/login issues it (login itself is tested once, its hash is slow on purpose)."""
    from servicekit import issue_token

    return issue_token(settings, str(uuid.uuid4()), claims={"email": DEMO_EMAIL, "role": "admin"})[0]


@pytest.fixture()
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def bearer_for(settings, user_id: str, role: str, email: str = "someone@fleet.example") -> dict[str, str]:
    """Headers with a token for the given user and role, as /auth/login would issue it."""
    from servicekit import issue_token

    token = issue_token(settings, user_id, claims={"email": email, "role": role})[0]
    return {"Authorization": f"Bearer {token}"}
