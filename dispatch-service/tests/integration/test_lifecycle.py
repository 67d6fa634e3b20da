"""The process's life, on moto's real DynamoDB and S3 server: build_dependencies builds and starts nothing (no
thread, no table, no bucket, no connection); create_app starts the lifecycle and servicekit.close_app closes it
(the AWS clients' connections); the threads of an /assign (the lease renewer, the writing lanes) end with it."""

from __future__ import annotations

import threading
import time

import boto3
import pytest
from dispatch_service import create_app
from dispatch_service.wiring import build_dependencies
from dispatch_support import DAY, package
from servicekit import close_app
from servicekit.lifecycle import lifecycle_of
from testkit.lifecycle import assert_closed_for_good

pytestmark = pytest.mark.integration


def aws_contents(settings) -> tuple[list[str], list[str]]:
    dynamodb = boto3.client("dynamodb", endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region)
    s3 = boto3.client("s3", endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region)
    return dynamodb.list_tables()["TableNames"], [b["Name"] for b in s3.list_buckets().get("Buckets", [])]


def open_pools(deps) -> int:
    """Connection pools the service's two AWS clients hold (botocore keeps one urllib3 pool per endpoint)."""
    clients = (deps.assignments.client, deps.files.files.provider.client)
    return sum(len(client._endpoint.http_session._manager.pools) for client in clients)


def run_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("lease-", "assign-lane")) and t.is_alive()]


def test_build_dependencies_starts_no_thread_opens_no_connection_and_writes_nothing(settings) -> None:
    threads, contents = set(threading.enumerate()), aws_contents(settings)
    deps = build_dependencies(settings)
    try:
        assert set(threading.enumerate()) == threads
        assert open_pools(deps) == 0
        assert aws_contents(settings) == contents
        tables, buckets = contents
        assert settings.assignments_table not in tables and settings.logs_bucket not in buckets
    finally:
        deps.close()


def test_create_app_starts_the_lifecycle_and_close_app_closes_the_clients(settings, headers) -> None:
    deps = build_dependencies(settings)
    app = create_app(settings, deps)
    lifecycle = lifecycle_of(app)
    assert lifecycle is not None and lifecycle.running
    client = app.test_client()
    lists = {"drivers": [{"driver_id": "driver_1"}], "packages": [package(f"p{i}") for i in range(3)]}
    assert client.post(f"/days/{DAY}/manifest", json=lists, headers=headers).status_code == 201
    # The first call that needed them created the table and the bucket (an emulator: PROVISION_AWS_RESOURCES).
    tables, buckets = aws_contents(settings)
    assert settings.assignments_table not in tables and settings.logs_bucket in buckets
    request = {"driver_ids": ["driver_1"], "max_per_driver": 2, "date": str(DAY)}
    answer = client.post("/assign", json=request, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert settings.assignments_table in aws_contents(settings)[0]
    deadline = time.monotonic() + 5
    while run_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run_threads() == [], "an /assign left its lease renewer or a writing lane running"
    assert open_pools(deps) > 0

    close_app(app)
    assert open_pools(deps) == 0
    assert_closed_for_good(app)


def test_without_start_background_the_lifecycle_is_installed_but_not_started(settings) -> None:
    app = create_app(settings, start_background=False)
    lifecycle = lifecycle_of(app)
    assert lifecycle is not None and not lifecycle.running
    close_app(app)
