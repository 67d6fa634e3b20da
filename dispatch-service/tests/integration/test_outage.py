"""R7: AWS goes away in the middle of /assign: 503 with Retry-After, nothing half-written (a claim block and its
assignment items commit together or not at all), and the same request retried once AWS is back completes
exactly once. A transaction whose answer is lost after it acted is sent again and counted once. A run whose
client never returns keeps what it committed, gets its log records from the next run of the day, and is
completed if its client comes back."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlparse

import boto3
import pytest
import urllib3
from botocore.exceptions import ConnectionClosedError
from dispatch_service import create_app
from dispatch_service.settings import Settings
from dispatch_service.usecases.check_day import check_day
from dispatch_service.wiring import build_dependencies
from dispatch_support import DAY, JWT_SECRET, Outage, package
from servicekit import issue_token

pytestmark = pytest.mark.integration
PACKAGES = 250
REQUEST = {"driver_ids": [f"driver_{i}" for i in range(1, 6)], "max_per_driver": 40, "date": str(DAY)}


@pytest.fixture()
def outage(aws_env: str):
    proxy = Outage(urlparse(aws_env).port)
    proxy.restore()
    yield proxy
    proxy.cut()


@pytest.fixture()
def service(aws_env, outage):
    suffix = uuid.uuid4().hex[:10]
    settings = Settings(
        jwt_secret=JWT_SECRET,
        aws_endpoint_url=outage.url,
        assignments_table=f"outage-{suffix}",
        logs_bucket=f"outage-{suffix}",
        aws_max_attempts=2,
        aws_connect_timeout_seconds=1,
        aws_write_concurrency=1,  # one transaction at a time: the cut falls between two known ones
        lease_seconds=2,  # a run cut short cannot release its lease: the retry waits for it to expire
    )
    deps = build_dependencies(settings)
    client = create_app(settings, deps).test_client()
    headers = {"Authorization": f"Bearer {issue_token(settings, 'dispatcher')[0]}"}
    manifest = {
        "drivers": [{"driver_id": f"driver_{i}"} for i in range(1, 8)],
        "packages": [package(f"pkg-{i:04d}") for i in range(PACKAGES)],
    }
    assert client.post(f"/days/{DAY}/manifest", json=manifest, headers=headers).status_code == 201
    return settings, deps, client, headers


def assign_logs(endpoint: str, settings: Settings) -> dict[str, list[dict]]:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    listing = s3.list_objects_v2(Bucket=settings.logs_bucket, Prefix=f"logs/day={DAY}/assign/").get("Contents", [])
    return {
        o["Key"]: [
            json.loads(line)
            for line in s3.get_object(Bucket=settings.logs_bucket, Key=o["Key"])["Body"].read().decode().splitlines()
        ]
        for o in listing
    }


def cut_at(deps, outage, service: str, operation: str, nth: int) -> None:
    calls = {"n": 0}

    def go_down(**_):
        calls["n"] += 1
        if calls["n"] == nth:
            outage.cut()

    target = deps.assignments.client if service == "dynamodb" else deps.files.files.provider.client
    target.meta.events.register(f"before-call.{service}.{operation}", go_down)


# TransactWriteItems of one run: the lease (1), the run marker (2), the claim blocks (3, 4, 5), completion (6).
@pytest.mark.parametrize(
    "service_name, operation, nth, blocks_left",
    [
        ("dynamodb", "TransactWriteItems", 4, 1),
        ("dynamodb", "TransactWriteItems", 6, 3),
        ("s3", "PutObject", 1, 3),
    ],
    ids=["between-claim-blocks", "completion-marker", "log-records"],
)
def test_outage_mid_request_then_the_retry_completes_once(
    aws_env, outage, service, service_name, operation, nth, blocks_left
):
    settings, deps, client, headers = service
    cut_at(deps, outage, service_name, operation, nth)
    failed = client.post("/assign", json=REQUEST, headers=headers)
    assert failed.status_code == 503, failed.get_json()
    assert failed.headers["Retry-After"].isdigit()
    assert failed.mimetype == "application/problem+json"

    outage.restore()
    half = check_day(deps.uow(), str(DAY))
    assert half.ok, half.problems  # whole blocks with their items, nothing else
    assert half.blocks == blocks_left and half.items == min(blocks_left * 98, 200)

    retried = client.post("/assign", json=REQUEST, headers=headers)
    assert retried.status_code == 200, retried.get_json()
    body = retried.get_json()
    assigned = [p for packages in body["assignments"].values() for p in packages]
    assert len(assigned) == len(set(assigned)) == 200
    assert all(len(packages) == 40 for packages in body["assignments"].values())
    report = check_day(deps.uow(), str(DAY), [(run_id(deps), body)])
    assert report.ok and report.items == 200, report.problems

    logs = assign_logs(aws_env, settings)
    assert len(logs) == 1
    assert sorted(r["package_id"] for r in next(iter(logs.values()))) == sorted(assigned)

    # Once more: the run is complete, so the answer repeats and nothing more is written.
    blocks = deps.ledger.blocks(str(DAY))
    again = client.post("/assign", json=REQUEST, headers=headers)
    assert again.get_json() == body
    assert deps.ledger.blocks(str(DAY)) == blocks


def run_id(deps) -> str:
    (marker,) = deps.ledger.markers(str(DAY))
    return marker.run_id


def test_a_transaction_whose_answer_is_lost_after_it_acted_is_counted_once(service) -> None:
    """The first claim block's transaction reaches DynamoDB and commits, then the connection drops before the
    answer: botocore sends the same transaction again (same ClientRequestToken), which finds its block; the
    run goes on, and the block is there once."""
    settings, deps, client, headers = service
    state = {"dropped": False}

    def deliver_then_drop(request, **_):
        if state["dropped"] or b'"CLAIM#' not in (request.body or b""):
            return None
        state["dropped"] = True
        urllib3.PoolManager().request("POST", request.url, body=request.body, headers=dict(request.headers))
        raise ConnectionClosedError(endpoint_url=request.url)

    deps.assignments.client.meta.events.register("before-send.dynamodb.TransactWriteItems", deliver_then_drop)
    answer = client.post("/assign", json=REQUEST, headers=headers)
    assert state["dropped"] and answer.status_code == 200, answer.get_json()
    report = check_day(deps.uow(), str(DAY), [(run_id(deps), answer.get_json())])
    assert report.ok and report.items == 200 and report.blocks == 3, report.problems


def test_a_run_never_retried_keeps_its_blocks_gets_its_log_and_completes_if_its_client_returns(
    aws_env, outage, service
) -> None:
    settings, deps, client, headers = service
    first = {"driver_ids": ["driver_1", "driver_2", "driver_3"], "max_per_driver": 50, "date": str(DAY)}
    cut_at(deps, outage, "dynamodb", "TransactWriteItems", 4)  # after its first block of 98
    assert client.post("/assign", json=first, headers={**headers, "Idempotency-Key": "gone"}).status_code == 503
    outage.restore()
    assert check_day(deps.uow(), str(DAY)).items == 98 and assign_logs(aws_env, settings) == {}

    second = {"driver_ids": ["driver_4", "driver_5"], "max_per_driver": 50, "date": str(DAY)}
    answer = client.post("/assign", json=second, headers={**headers, "Idempotency-Key": "next"})
    assert answer.status_code == 200
    logs = assign_logs(aws_env, settings)
    cut_short = [records for key, records in logs.items() if key.endswith("/gone.jsonl")]
    assert len(cut_short) == 1 and len(cut_short[0]) == 98  # its committed assignments, logged by the next run
    assert check_day(deps.uow(), str(DAY), [("next", answer.get_json())]).ok

    # Its client comes back: the run resumes with what is left and completes once.
    back = client.post("/assign", json=first, headers={**headers, "Idempotency-Key": "gone"})
    assert back.status_code == 200
    assert sum(len(p) for p in back.get_json()["assignments"].values()) == 150
    report = check_day(deps.uow(), str(DAY), [("next", answer.get_json()), ("gone", back.get_json())])
    assert report.ok and report.items == 250, report.problems
    assert len(assign_logs(aws_env, settings)["logs/day=2026-11-30/assign/gone.jsonl"]) == 150
