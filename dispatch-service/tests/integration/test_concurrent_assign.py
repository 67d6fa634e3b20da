"""Concurrent /assign calls on two gunicorn workers never give one package to two drivers, and identical ones
answer the same result: the guarantee is the day's lease and the fenced transactions in DynamoDB, not a lock
in a process."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
from dispatch_service.settings import Settings
from dispatch_service.usecases.check_day import check_day
from dispatch_service.wiring import build_dependencies
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

    def run(key: str, group: list[str]) -> None:
        barrier.wait()
        answers.append(
            requests.post(
                f"{url}/assign",
                json={"driver_ids": group, "max_per_driver": 60, "date": str(DAY)},
                headers={**headers, "Idempotency-Key": key},
                timeout=120,
            )
        )

    threads = [threading.Thread(target=run, args=(f"group-{i}", g)) for i, g in enumerate(groups)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.status_code for a in answers] == [200] * len(groups), [a.text[:300] for a in answers]
    given = Counter(p for a in answers for packages in a.json()["assignments"].values() for p in packages)
    assert given and max(given.values()) == 1, "a package went to two drivers"
    assert sum(given.values()) == PACKAGES  # together they placed every package

    deps = build_dependencies(
        Settings(
            jwt_secret=JWT_SECRET,
            aws_endpoint_url=aws_env,
            assignments_table=env["ASSIGNMENTS_TABLE"],
            logs_bucket=env["LOGS_BUCKET"],
        )
    )
    assert {m.run_id for m in deps.ledger.markers(str(DAY))} == {f"group-{i}" for i in range(len(groups))}
    keys = {tuple(g): f"group-{i}" for i, g in enumerate(groups)}
    report = check_day(deps.uow(), str(DAY), [(keys[tuple(a.json()["assignments"])], a.json()) for a in answers])
    assert report.ok and report.items == PACKAGES, report.problems


def test_identical_concurrent_calls_on_two_workers_answer_one_result(service, aws_env):
    url, env = service
    headers = {"Authorization": f"Bearer {issue_token(Settings(jwt_secret=JWT_SECRET), 'dispatcher')[0]}"}
    manifest = {
        "drivers": [{"driver_id": f"driver_{i}"} for i in range(1, 6)],
        "packages": [package(f"q{i:04d}") for i in range(PACKAGES)],
    }
    assert requests.post(f"{url}/days/{DAY}/manifest", json=manifest, headers=headers, timeout=60).status_code == 201
    request = {"driver_ids": [f"driver_{i}" for i in range(1, 6)], "max_per_driver": 40, "date": str(DAY)}
    barrier = threading.Barrier(4)
    answers: list[requests.Response] = []

    def run() -> None:
        barrier.wait()
        answers.append(requests.post(f"{url}/assign", json=request, headers=headers, timeout=120))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 4, [a.text[:300] for a in answers]
    assert all(a.json() == answers[0].json() for a in answers)
    deps = build_dependencies(
        Settings(
            jwt_secret=JWT_SECRET,
            aws_endpoint_url=aws_env,
            assignments_table=env["ASSIGNMENTS_TABLE"],
            logs_bucket=env["LOGS_BUCKET"],
        )
    )
    (marker,) = deps.ledger.markers(str(DAY))
    report = check_day(deps.uow(), str(DAY), [(marker.run_id, a.json()) for a in answers])
    assert report.ok and report.items == 200, report.problems
