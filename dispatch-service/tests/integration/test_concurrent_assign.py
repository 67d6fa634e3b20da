"""Concurrent /assign calls on two gunicorn workers never give one package to two drivers: the guarantee is
DynamoDB's conditional claims, not a lock in a process."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from pathlib import Path

import boto3
import pytest
import requests
from dispatch_service.settings import Settings
from dispatch_support import DAY, JWT_SECRET, package
from servicekit import issue_token
from testkit.servers import free_port, start_gunicorn, stop_process

pytestmark = pytest.mark.integration
SERVICE_DIR = Path(__file__).resolve().parents[2]
PACKAGES = 300


@pytest.fixture()
def service(aws_env: str, tmp_path: Path):
    suffix = uuid.uuid4().hex[:10]
    env = {
        "JWT_SECRET": JWT_SECRET,
        "AWS_ENDPOINT_URL": aws_env,
        "ASSIGNMENTS_TABLE": f"concurrent-{suffix}",
        "LOGS_BUCKET": f"concurrent-{suffix}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "LOG_DIR": str(tmp_path / "logs"),
    }
    port = free_port()
    proc = start_gunicorn(SERVICE_DIR, port=port, env=env, stdout=open(tmp_path / "out.txt", "w"))  # noqa: SIM115
    try:
        yield f"http://127.0.0.1:{port}", env
    finally:
        stop_process(proc)


def test_concurrent_runs_on_two_workers_share_no_package(service, aws_env):
    url, env = service
    settings = Settings(jwt_secret=JWT_SECRET)
    headers = {"Authorization": f"Bearer {issue_token(settings, 'dispatcher')[0]}"}
    drivers = [f"driver_{i}" for i in range(1, 21)]
    manifest = {
        "drivers": [{"driver_id": d} for d in drivers],
        "packages": [package(f"p{i:04d}") for i in range(PACKAGES)],
    }
    stored = requests.post(f"{url}/days/{DAY}/manifest", json=manifest, headers=headers, timeout=60)
    assert stored.status_code == 201, stored.text

    # Four runs, each able to take every package on its own; they start together.
    groups = [drivers[0:5], drivers[5:10], drivers[10:15], drivers[15:20]]
    barrier = threading.Barrier(len(groups))
    answers: list[requests.Response] = []

    def run(group: list[str]) -> None:
        barrier.wait()
        answers.append(
            requests.post(
                f"{url}/assign",
                json={"driver_ids": group, "max_per_driver": 60, "date": str(DAY)},
                headers=headers,
                timeout=120,
            )
        )

    threads = [threading.Thread(target=run, args=(g,)) for g in groups]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.status_code for a in answers] == [200] * len(groups), [a.text[:300] for a in answers]
    given = Counter(p for a in answers for packages in a.json()["assignments"].values() for p in packages)
    assert given and max(given.values()) == 1, "a package went to two drivers"
    assert sum(given.values()) == PACKAGES  # together they placed every package

    table = boto3.resource("dynamodb", endpoint_url=aws_env).Table(env["ASSIGNMENTS_TABLE"])
    items = [i for i in table.scan(ConsistentRead=True)["Items"] if "assignment_date" in i]
    per_package = Counter(i["package_id"] for i in items)
    assert len(per_package) == PACKAGES and max(per_package.values()) == 1
