"""The idempotency guard with its Redis store on a real Redis, and with the in-memory store."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
from jobs.idempotency import IdempotencyGuard, JobInProgress, MemoryIdempotencyStore, RedisIdempotencyStore
from jobs.registry import JobContext


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest):
    if request.param == "memory":
        return MemoryIdempotencyStore()
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    return RedisIdempotencyStore(client, prefix=f"idem-{uuid.uuid4().hex[:6]}:")


def _ctx(job_id: str = "j-1") -> JobContext:
    return JobContext(id=job_id, type="audit.write")


@pytest.mark.integration
def test_a_finished_job_is_not_run_again(store) -> None:
    guard = IdempotencyGuard(store)
    runs: list[str] = []

    assert guard.run(_ctx(), lambda: runs.append("x") or "result") == "result"
    assert guard.run(_ctx(), lambda: runs.append("x")) is None
    guard.run(_ctx("j-2"), lambda: runs.append("y"))
    assert runs == ["x", "y"]


@pytest.mark.integration
def test_a_failed_run_releases_the_key_so_the_retry_runs(store) -> None:
    guard = IdempotencyGuard(store)
    attempts: list[int] = []

    def fail_first() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("transient")

    with pytest.raises(RuntimeError):
        guard.run(_ctx(), fail_first)
    guard.run(_ctx(), fail_first)
    guard.run(_ctx(), fail_first)
    assert len(attempts) == 2


@pytest.mark.integration
def test_concurrent_duplicates_run_once_and_the_other_is_told_to_come_back(store) -> None:
    guard = IdempotencyGuard(store)
    started, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def slow() -> None:
        runs.append(1)
        started.set()
        release.wait(5)

    thread = threading.Thread(target=guard.run, args=(_ctx(), slow))
    thread.start()
    assert started.wait(5)
    with pytest.raises(JobInProgress):
        guard.run(_ctx(), slow)
    release.set()
    thread.join(5)
    guard.run(_ctx(), slow)
    assert runs == [1]


@pytest.mark.integration
def test_a_claim_of_a_dead_consumer_expires(store) -> None:
    guard = IdempotencyGuard(store, lock_ttl_seconds=0.2)
    assert store.claim(guard.key(_ctx()), 0.2) is True  # claimed, then the consumer died
    time.sleep(0.3)
    runs: list[int] = []
    guard.run(_ctx(), lambda: runs.append(1))
    assert runs == [1]
