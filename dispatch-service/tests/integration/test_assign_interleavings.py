"""R11 in process: a second /assign placed at every step of a first one, on the AWS twin, then the whole day
read back by the history checker (dispatch_service.usecases.check_day).

The first run (A) is paused at each step of its flow (interleavings.STEPS) and its lease frozen, as a process
stopped by the scheduler stops renewing: the lease expires, the second call (B) takes it over and runs to its
answer, then A wakes up, finds its fence changed on its next write, waits for the lease again and resumes. B is
identical to A (same Idempotency-Key and body), reuses A's key with another body, or asks for overlapping or
disjoint drivers. Whatever the point, both answers and the table must satisfy every invariant: no package with
two drivers, no driver over max_per_driver, every item backed by its claim block, every 200 equal to the table,
an identical call the same answer, a reused key 422.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import threading
import time
import uuid

import pytest
from dispatch_service import create_app
from dispatch_service.domain.generator import generate_day
from dispatch_service.domain.matching import classify, maximum_assignment
from dispatch_service.domain.models import Rules
from dispatch_service.domain.rules import PackageTable
from dispatch_service.settings import Settings
from dispatch_service.usecases.check_day import check_day
from dispatch_service.wiring import build_dependencies
from dispatch_support import DAY, JWT_SECRET
from interleavings import STEPS, FreezableLedger, Gate
from servicekit import issue_token

pytestmark = pytest.mark.integration
DRIVERS, PACKAGES = 8, 160
A_DRIVERS = ["driver_1", "driver_2", "driver_3", "driver_4"]  # at most 4 x 40: two claim blocks of at most 98
SECOND = {
    "identical": ("run-a", A_DRIVERS),
    "key reused": ("run-a", ["driver_5", "driver_6"]),
    "overlapping": ("run-b", ["driver_3", "driver_4", "driver_5", "driver_6"]),
    "disjoint": ("run-b", ["driver_5", "driver_6", "driver_7", "driver_8"]),
}
_days = itertools.count(1)


@dataclasses.dataclass
class World:
    app: object
    deps: object
    ledger: FreezableLedger
    headers: dict
    gates: dict


@pytest.fixture(scope="module")
def world(moto_url):
    """One app, table and bucket for the module, on a ledger whose leases can be frozen; short leases so that a
    frozen one expires quickly; one writing lane, so that a run paused between two blocks writes nothing."""
    with pytest.MonkeyPatch.context() as env:
        for key, value in {
            "AWS_ACCESS_KEY_ID": "t",
            "AWS_SECRET_ACCESS_KEY": "t",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            env.setenv(key, value)
        suffix = uuid.uuid4().hex[:10]
        settings = Settings(
            jwt_secret=JWT_SECRET,
            aws_endpoint_url=moto_url,
            assignments_table=f"interleave-{suffix}",
            logs_bucket=f"interleave-{suffix}",
            aws_max_attempts=2,
            lease_seconds=0.8,
            assign_wait_seconds=30,
            aws_write_concurrency=1,
        )
        deps = build_dependencies(settings)
        ledger = FreezableLedger(deps.ledger)
        gates: dict = {}
        deps = dataclasses.replace(deps, ledger=ledger, checkpoint=lambda step, run_id: gates["gate"](step, run_id))
        headers = {"Authorization": f"Bearer {issue_token(settings, 'dispatcher')[0]}"}
        yield World(create_app(settings, deps), deps, ledger, headers, gates)


@pytest.fixture()
def today(world):
    """A day of its own for each test (its own lease, blocks and runs), its lists stored, and a fresh gate."""
    day = DAY + dt.timedelta(days=next(_days))
    lists = generate_day(day, DRIVERS, PACKAGES, seed=5)
    # Two drivers that take anything: A then always fills more than one claim block.
    lists.drivers[0] = lists.drivers[0].model_copy(update={"rules": Rules()})
    lists.drivers[1] = lists.drivers[1].model_copy(update={"rules": Rules()})
    stored = world.app.test_client().post(
        f"/days/{day}/manifest", json=lists.model_dump(mode="json", exclude_none=True), headers=world.headers
    )
    assert stored.status_code == 201, stored.get_json()
    world.gates["gate"] = Gate("run-a", "never", world.ledger)
    return str(day), lists, world.gates["gate"]


def body(day: str, drivers: list[str]) -> dict:
    return {"driver_ids": drivers, "max_per_driver": 40, "date": day}


def call(app, headers, key: str, request: dict, into: list) -> None:
    answer = app.test_client().post("/assign", json=request, headers={**headers, "Idempotency-Key": key})
    into.append((key, answer.status_code, answer.get_json(), dict(answer.headers)))


def maximum_for(lists, request: dict) -> int:
    drivers = [next(d for d in lists.drivers if d.driver_id == i) for i in request["driver_ids"]]
    classes = classify([d.rules for d in drivers], PackageTable.of(lists.packages))
    return sum(len(x) for x in maximum_assignment(classes, [request["max_per_driver"]] * len(drivers)))


@pytest.mark.parametrize("kind", list(SECOND))
@pytest.mark.parametrize("step", STEPS)
def test_a_second_call_at_every_step_of_a_first_whose_lease_expires(world, today, step, kind) -> None:
    (app, deps, headers), (day, lists, gate) = (world.app, world.deps, world.headers), today
    gate.step, gate.freeze = step, True
    first, second = [], []
    a_request = body(day, A_DRIVERS)
    a = threading.Thread(target=call, args=(app, headers, "run-a", a_request, first))
    a.start()
    assert gate.reached.wait(60), f"run A never reached {step}: {gate.steps}"
    key, drivers = SECOND[kind]
    started = time.monotonic()
    call(app, headers, key, body(day, drivers), second)  # takes A's lease over once it expires (0.8 s)
    b_seconds = time.monotonic() - started
    gate.release.set()
    a.join(60)
    assert not a.is_alive()
    (_, a_status, a_body, _), (_, b_status, b_body, _) = first[0], second[0]

    if kind == "key reused":
        assert sorted([a_status, b_status]) == [200, 422], (a_status, b_status, a_body, b_body)
        refused = a_body if a_status == 422 else b_body
        assert "run-a" in refused["detail"] and refused["errors"][0]["loc"] == "header.Idempotency-Key"
    else:
        assert (a_status, b_status) == (200, 200), (a_body, b_body)
    if kind == "identical":
        assert a_body == b_body
        assert sum(map(len, a_body["assignments"].values())) == maximum_for(lists, a_request)
    answers = [(k, answer) for k, status, answer, _ in (*first, *second) if status == 200]
    report = check_day(deps.uow(), day, answers)
    assert report.ok, report.problems
    assert report.answers == len(answers) and report.items > 0
    print(f"{step}/{kind}: B answered {b_status} after {b_seconds:.1f}s; {report.summary()}")


def test_an_identical_call_waits_for_the_run_and_answers_its_result_without_writing(world, today) -> None:
    (app, deps, headers), (day, _, gate) = (world.app, world.deps, world.headers), today
    gate.step = "block-written"  # A holds the lease (renewed) between two of its blocks
    first, second = [], []
    a_request = body(day, A_DRIVERS)
    a = threading.Thread(target=call, args=(app, headers, "run-a", a_request, first))
    a.start()
    assert gate.reached.wait(60)
    b = threading.Thread(target=call, args=(app, headers, "run-a", a_request, second))
    b.start()
    time.sleep(1.5)  # longer than the lease: A's renewals keep it
    assert b.is_alive(), "the identical call should wait for the run in progress"
    before = deps.ledger.blocks(day)
    gate.release.set()
    a.join(60)
    b.join(60)
    assert first[0][1] == second[0][1] == 200 and first[0][2] == second[0][2]
    after = deps.ledger.blocks(day)
    assigned = sum(map(len, first[0][2]["assignments"].values()))
    assert len(after) == -(-assigned // 98) > len(before) >= 1 and {b.token for b in after} == {1}  # A's alone
    assert check_day(deps.uow(), day, [(k, answer) for k, _, answer, _ in (*first, *second)]).ok


def test_past_the_wait_a_second_call_answers_409_with_retry_after_and_the_run(world, today) -> None:
    (app, deps, headers), (day, _, gate) = (world.app, world.deps, world.headers), today
    impatient_deps = dataclasses.replace(deps, settings=deps.settings.model_copy(update={"assign_wait_seconds": 0.5}))
    impatient = create_app(impatient_deps.settings, impatient_deps)
    gate.step = "computed"
    first, second = [], []
    a = threading.Thread(target=call, args=(app, headers, "run-a", body(day, A_DRIVERS), first))
    a.start()
    assert gate.reached.wait(60)
    other = body(day, ["driver_7"])
    call(impatient, headers, "run-c", other, second)
    _, status, refused, answer_headers = second[0]
    assert status == 409 and refused["run_id"] == "run-a", refused
    assert answer_headers["Content-Type"] == "application/problem+json"
    assert int(answer_headers["Retry-After"]) >= 1
    gate.release.set()
    a.join(60)
    assert first[0][1] == 200
    # Once the run is over, the same call goes through on what is left.
    again = []
    call(impatient, headers, "run-c", other, again)
    assert again[0][1] == 200 and set(again[0][2]["assignments"]["driver_7"]).isdisjoint(
        {p for ps in first[0][2]["assignments"].values() for p in ps}
    )
    assert check_day(deps.uow(), day, [("run-a", first[0][2]), ("run-c", again[0][2])]).ok


def test_a_key_reused_with_another_body_is_422_naming_the_key_and_changes_nothing(world, today) -> None:
    (app, deps, headers), (day, _, _) = (world.app, world.deps, world.headers), today
    first = []
    call(app, headers, "K-1", body(day, A_DRIVERS), first)
    assert first[0][1] == 200
    before = deps.ledger.blocks(day)
    reused = []
    call(app, headers, "K-1", body(day, ["driver_5"]), reused)
    _, status, refused, answer_headers = reused[0]
    assert status == 422 and "K-1" in refused["detail"], refused
    assert answer_headers["Content-Type"] == "application/problem+json"
    assert deps.ledger.blocks(day) == before
