"""Fixtures of dispatch-service's tests: settings on moto's real AWS server, an app, an authorised client."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from dispatch_service import create_app
from dispatch_service.settings import Settings
from dispatch_service.wiring import Dependencies, build_dependencies
from servicekit import issue_token

# Test modules import dispatch_support (helpers shared by unit and integration tests) from this folder.
sys.path.insert(0, str(Path(__file__).parent))

from dispatch_support import DAY, JWT_SECRET  # noqa: E402


@pytest.fixture()
def settings(aws_env: str) -> Settings:
    # A table and a bucket of its own per test: tests share one moto server.
    suffix = uuid.uuid4().hex[:10]
    return Settings(
        jwt_secret=JWT_SECRET,
        aws_endpoint_url=aws_env,
        assignments_table=f"assignments-{suffix}",
        logs_bucket=f"dispatch-logs-{suffix}",
        aws_max_attempts=2,
    )


@pytest.fixture()
def deps(settings: Settings) -> Dependencies:
    return build_dependencies(settings)


@pytest.fixture()
def app(settings: Settings, deps: Dependencies):
    return create_app(settings, deps)


@pytest.fixture()
def headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, 'dispatcher')[0]}"}


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def upload(client, headers) -> Callable[[dict, dt.date], None]:
    def store(manifest: dict, day: dt.date = DAY) -> None:
        response = client.post(f"/days/{day}/manifest", json=manifest, headers=headers)
        assert response.status_code == 201, response.get_json()

    return store
