"""A storm of /assign calls against the running local stack, with faults, then the day read back whole.

One seed is one day of its own: generated lists (drivers with the generator's rules), then a wave of calls
started together, each a client that behaves as a real one would: it sends its request with its
Idempotency-Key and, on 409, 503 or a dropped connection, sends the same request again after Retry-After
(or a second), until it gets a final answer or its patience (`patience` seconds) runs out. The calls are
identical to an earlier one (same key and body), ask for driver sets overlapping or disjoint from the
others, or reuse a key with another body. While they run, the seed's fault strikes: dispatch-service's
gunicorn workers killed (SIGKILL) mid-run, or the AWS endpoint stopped (SIGSTOP) for a few seconds, or
nothing. Then
dispatch_service.usecases.check_day reads the day back and checks every invariant, every 200 answer included.

tests/e2e/test_dispatch_storm.py runs a few seeds in `make e2e`; bench/dispatch_storm.py many in `make bench`.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
from dispatch_service.domain.generator import generate_day
from dispatch_service.settings import Settings
from dispatch_service.usecases.check_day import DayReport, check_day
from dispatch_service.wiring import build_dependencies
from e2e_support import AWS, DISPATCH

FAULTS = ("none", "kill-worker", "pause-aws")
REQUEST_TIMEOUT = 90  # one request's wait for its answer; `patience` bounds the retries


@dataclass
class Call:
    key: str
    body: dict
    kind: str  # first | identical | overlapping | disjoint | key-reused


@dataclass
class Outcome:
    call: Call
    statuses: list[int] = field(default_factory=list)  # every answer, 0 for a dropped connection
    bodies: list[dict] = field(default_factory=list)  # every 200 answer
    first_answer_s: float | None = None
    seconds: float = 0.0

    @property
    def final(self) -> int:
        return self.statuses[-1] if self.statuses else 0


@dataclass
class StormResult:
    seed: int
    day: str
    fault: str
    outcomes: list[Outcome]
    report: DayReport
    fault_note: str = ""
    problems: list[str] = field(default_factory=list)

    def counts(self) -> Counter:
        return Counter(s for o in self.outcomes for s in o.statuses)


def stack_deps():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # The twin's queries walk the whole table for every page (moto): the checker's reads may take long.
    settings = Settings(
        jwt_secret="storm-reads-the-table-only-0123456789", aws_endpoint_url=AWS, aws_read_timeout_seconds=120
    )
    return build_dependencies(settings)


def plan(rng: random.Random, drivers: list[str], calls: int, seed: int) -> list[Call]:
    planned: list[Call] = []
    for i in range(calls):
        kind = "first" if not planned else rng.choice(["identical", "overlapping", "disjoint", "key-reused"])
        if kind == "identical":
            earlier = rng.choice(planned)
            planned.append(Call(earlier.key, earlier.body, kind))
            continue
        size = rng.randint(2, max(2, len(drivers) // 3))
        if kind == "disjoint":
            used = {d for c in planned for d in c.body["driver_ids"]}
            free = [d for d in drivers if d not in used] or drivers
            chosen = rng.sample(free, min(size, len(free)))
        elif kind == "overlapping":
            earlier = rng.choice(planned).body["driver_ids"]
            keep = rng.sample(earlier, max(1, len(earlier) // 2))
            chosen = keep + rng.sample([d for d in drivers if d not in keep], size)
        else:
            chosen = rng.sample(drivers, size)
        body = {"driver_ids": chosen, "max_per_driver": rng.randint(5, 40)}
        key = rng.choice(planned).key if kind == "key-reused" else f"storm-{seed}-{i}"
        planned.append(Call(key, body, kind))
    return planned


def send(session: requests.Session, call: Call, day: str, patience: float, outcome: Outcome, start: threading.Event):
    """One client: the same request until a final answer (anything but 409, 503 or a dropped connection)."""
    start.wait()
    began = time.monotonic()
    deadline = began + patience
    while True:
        try:
            answer = session.post(
                f"{DISPATCH}/assign",
                json={**call.body, "date": day},
                headers={"Idempotency-Key": call.key},
                timeout=REQUEST_TIMEOUT,
            )
            status = answer.status_code
        except requests.RequestException:
            answer, status = None, 0
        if outcome.first_answer_s is None:
            outcome.first_answer_s = time.monotonic() - began
        outcome.statuses.append(status)
        if status == 200:
            outcome.bodies.append(answer.json())
        if status not in (0, 409, 503) or time.monotonic() >= deadline:
            break
        wait = float(answer.headers.get("Retry-After", "1")) if answer is not None else 1.0
        time.sleep(min(wait, 5.0, max(deadline - time.monotonic(), 0)))
    outcome.seconds = time.monotonic() - began


def dispatch_workers(stack) -> list[int]:
    master = stack.pid("services:dispatch-service")
    children = []
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                with open(f"/proc/{stat}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                children.append(int(stat))
    return children


def strike(stack, fault: str, rng: random.Random, note: list[str]) -> None:
    time.sleep(rng.uniform(0.3, 2.0))
    if fault == "kill-worker":
        # Every worker, so that the one running the day's run is among them; the master starts new ones.
        workers = dispatch_workers(stack)
        for victim in workers:
            os.kill(victim, signal.SIGKILL)
        note.append(f"killed workers {', '.join(map(str, workers))}")
    elif fault == "pause-aws":
        twin = stack.pid("infra:aws")
        seconds = rng.uniform(2.0, 5.0)
        os.kill(twin, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.kill(twin, signal.SIGCONT)
        note.append(f"AWS endpoint stopped {seconds:.1f}s")


def session(token: str) -> requests.Session:
    made = requests.Session()
    made.headers["Authorization"] = f"Bearer {token}"
    return made


def storm(
    stack,
    token: str,
    seed: int,
    fault: str,
    calls: int = 8,
    drivers: int = 30,
    packages: int = 1500,
    patience: float = 120,
    planned: list[Call] | None = None,
) -> StormResult:
    """`planned`: these calls instead of a random plan (the driver ids are the generator's driver_1...)."""
    rng = random.Random(seed)
    day = (dt.date(2091, 1, 1) + dt.timedelta(days=seed)).isoformat()
    lists = generate_day(dt.date.fromisoformat(day), drivers, packages, seed=seed)
    stored = session(token).post(
        f"{DISPATCH}/days/{day}/manifest", json=lists.model_dump(mode="json", exclude_none=True), timeout=120
    )
    assert stored.status_code == 201, stored.text
    planned = planned or plan(rng, [d.driver_id for d in lists.drivers], calls, seed)
    outcomes = [Outcome(call) for call in planned]
    start = threading.Event()
    clients = [
        threading.Thread(target=send, args=(session(token), o.call, day, patience, o, start), daemon=True)
        for o in outcomes  # each client its own connection
    ]
    for client in clients:
        client.start()
    note: list[str] = []
    fault_thread = threading.Thread(target=strike, args=(stack, fault, rng, note), daemon=True)
    start.set()
    fault_thread.start()
    for client in clients:
        client.join(patience + 60)
    fault_thread.join(30)

    answers = [(o.call.key, body) for o in outcomes for body in o.bodies]
    report = check_day(stack_deps().uow(), day, answers)
    result = StormResult(seed, day, fault, outcomes, report, "; ".join(note))
    result.problems += report.problems
    # Under one key, one request wins (whichever started its run first): every call with that body ends 200,
    # every call with another body ends 422. A key no other request shares must end 200.
    by_key_body: dict[str, dict[str, list[Outcome]]] = {}
    for o in outcomes:
        by_key_body.setdefault(o.call.key, {}).setdefault(repr(o.call.body), []).append(o)
    for key, bodies in by_key_body.items():
        finals = {body: {o.final for o in group} for body, group in bodies.items()}
        winners = [body for body, ends in finals.items() if ends == {200}]
        losers = [body for body, ends in finals.items() if ends == {422}]
        if len(winners) != 1 or len(winners) + len(losers) != len(finals):
            result.problems.append(f"calls under key {key} ended {[o.statuses for g in bodies.values() for o in g]}")
    by_key: dict[str, list[dict]] = {}
    for o in outcomes:
        by_key.setdefault(o.call.key, []).extend(o.bodies)
    for key, bodies in by_key.items():
        if any(b != bodies[0] for b in bodies):
            result.problems.append(f"the 200 answers under key {key} differ")
    return result


def describe(result: StormResult) -> str:
    statuses = ", ".join(f"{s or 'dropped'}: {n}" for s, n in sorted(result.counts().items()))
    slowest = max((o.first_answer_s or 0) for o in result.outcomes)
    return (
        f"seed {result.seed} ({result.fault}{': ' + result.fault_note if result.fault_note else ''}): "
        f"{len(result.outcomes)} calls, answers {statuses}; first answer within {slowest:.1f}s; "
        f"{result.report.summary()}"
    )
