"""The jobs SPI contract, run against every provider on real servers (see conftest.py)."""

from __future__ import annotations

import threading
import time

import pytest
from jobs import InvalidPayload, JobContext, PermanentJobError, UnknownJobType
from jobs.idempotency import IdempotencyGuard, MemoryIdempotencyStore
from jobs.spi import Job
from jobs_support import MAX_ATTEMPTS, Harness, wait_until
from pydantic import BaseModel, Field

pytestmark = pytest.mark.integration


class LoadEvent(BaseModel):
    event_id: str
    load_id: str = Field(min_length=1)
    weight_kg: int = Field(ge=0, default=0)


class Recorder:
    """Handler calls, thread-safe: (job id, attempt, payload)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, BaseModel]] = []
        self.lock = threading.Lock()

    def add(self, payload: BaseModel, ctx: JobContext) -> None:
        with self.lock:
            self.calls.append((ctx.id, ctx.attempt, payload))

    def ids(self) -> list[str]:
        with self.lock:
            return [c[0] for c in self.calls]


def test_dispatch_delivers_validated_payload_with_its_id(harness: Harness) -> None:
    seen = Recorder()
    harness.registry.register("load.assigned", LoadEvent, seen.add)
    harness.start()

    job_id = harness.dispatcher.dispatch(
        "load.assigned", {"event_id": "e1", "load_id": "L-1", "weight_kg": "12"}, attributes={"source": "fleet-api"}
    )

    assert wait_until(lambda: len(seen.calls) == 1)
    delivered_id, attempt, payload = seen.calls[0]
    assert delivered_id == job_id
    assert attempt == 1
    assert payload == LoadEvent(event_id="e1", load_id="L-1", weight_kg=12)


def test_invalid_payload_is_refused_at_the_caller_and_never_sent(harness: Harness) -> None:
    seen = Recorder()
    harness.registry.register("load.assigned", LoadEvent, seen.add)
    harness.start()

    with pytest.raises(InvalidPayload) as refused:
        harness.dispatcher.dispatch("load.assigned", {"event_id": "e1", "load_id": "", "weight_kg": -1})
    assert {tuple(e["loc"]) for e in refused.value.errors} == {("load_id",), ("weight_kg",)}
    with pytest.raises(UnknownJobType):
        harness.dispatcher.dispatch("no.such.type", {})

    marker = harness.dispatcher.dispatch("load.assigned", {"event_id": "e2", "load_id": "L-2"})
    assert wait_until(lambda: len(seen.calls) >= 1)
    time.sleep(0.2)
    assert seen.ids() == [marker]


def test_handler_that_fails_once_is_retried_then_succeeds(harness: Harness) -> None:
    seen = Recorder()

    def flaky(payload: LoadEvent, ctx: JobContext) -> None:
        seen.add(payload, ctx)
        if ctx.attempt == 1:
            raise RuntimeError("downstream hiccup")

    harness.registry.register("load.completed", LoadEvent, flaky)
    harness.start()
    job_id = harness.dispatcher.dispatch("load.completed", {"event_id": "e1", "load_id": "L-1"})

    assert wait_until(lambda: len(seen.calls) >= 2)
    time.sleep(0.3)
    assert [(i, a) for i, a, _ in seen.calls] == [(job_id, 1), (job_id, 2)]
    assert harness.dead_letters("load.completed") == []


def test_poison_job_ends_in_the_dead_letter_path_after_max_attempts(harness: Harness) -> None:
    seen = Recorder()

    def poison(payload: LoadEvent, ctx: JobContext) -> None:
        seen.add(payload, ctx)
        raise RuntimeError("always fails")

    harness.registry.register("load.cancelled", LoadEvent, poison)
    harness.start()
    job_id = harness.dispatcher.dispatch("load.cancelled", {"event_id": "e1", "load_id": "L-1"})

    assert wait_until(lambda: [j.id for j in harness.dead_letters("load.cancelled")] == [job_id], timeout=15)
    time.sleep(0.3)  # no further delivery once parked
    assert [a for _, a, _ in seen.calls] == list(range(1, MAX_ATTEMPTS + 1))
    assert harness.dead_letters("load.cancelled")[0].payload == {"event_id": "e1", "load_id": "L-1", "weight_kg": 0}


def test_permanent_error_is_parked_without_retries(harness: Harness) -> None:
    seen = Recorder()

    def refuse(payload: LoadEvent, ctx: JobContext) -> None:
        seen.add(payload, ctx)
        raise PermanentJobError("load does not exist")

    harness.registry.register("load.cancelled", LoadEvent, refuse)
    harness.start()
    job_id = harness.dispatcher.dispatch("load.cancelled", {"event_id": "e1", "load_id": "L-1"})

    assert wait_until(lambda: [j.id for j in harness.dead_letters("load.cancelled")] == [job_id], timeout=15)
    time.sleep(0.2)
    assert [a for _, a, _ in seen.calls] == [1]


def test_duplicate_delivery_runs_the_side_effect_once_with_the_guard(harness: Harness) -> None:
    side_effects: list[str] = []
    guard = IdempotencyGuard(MemoryIdempotencyStore())
    calls = Recorder()

    @guard
    def write_audit(payload: LoadEvent, ctx: JobContext) -> None:
        calls.add(payload, ctx)
        side_effects.append(ctx.id)

    harness.registry.register("load.assigned", LoadEvent, write_audit)
    harness.start()
    job = Job(type="load.assigned", payload={"event_id": "e1", "load_id": "L-1", "weight_kg": 0})
    harness.provider.publish(job)
    harness.provider.publish(job)  # the same job id twice, as a relay retrying after a crash would
    marker = harness.dispatcher.dispatch("load.assigned", {"event_id": "e2", "load_id": "L-2"})

    assert wait_until(lambda: marker in side_effects)
    time.sleep(0.3)
    assert sorted(side_effects) == sorted([job.id, marker])


def test_many_jobs_each_delivered_and_acknowledged(harness: Harness) -> None:
    seen = Recorder()
    harness.registry.register("load.assigned", LoadEvent, seen.add)
    harness.start(consumers=2)

    ids = [harness.dispatcher.dispatch("load.assigned", {"event_id": f"e{i}", "load_id": f"L{i}"}) for i in range(40)]

    assert wait_until(lambda: len(set(seen.ids())) == 40, timeout=20)
    time.sleep(0.3)
    assert sorted(seen.ids()) == sorted(ids)  # each once: nothing was redelivered after its ack
