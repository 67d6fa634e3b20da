"""servicekit.tracking against a real Redis: which writes arrive as pushes, and how a silent connection is noticed.
The copies built on it are tested where they live (test_revocation.py, fleet-api's loads cache)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from servicekit.tracking import InvalidationTracker
from testkit.servers import free_port, start_process, stop_process

pytestmark = pytest.mark.integration


@pytest.fixture()
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def drained_within(tracker: InvalidationTracker, seconds: float = 2.0) -> bool:
    """Redis sends a push in its own time after the write: drain until one arrives or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if tracker.drain():
            return True
        time.sleep(0.01)
    return False


def test_a_write_under_the_prefix_arrives_and_one_elsewhere_does_not(client: redis.Redis) -> None:
    prefix = f"tracking-test:{uuid.uuid4().hex}:"
    tracker = InvalidationTracker(client, prefix)
    try:
        assert tracker.drain() is False
        client.set(f"other:{uuid.uuid4().hex}", "1")
        assert drained_within(tracker, 0.3) is False
        client.hset(f"{prefix}hash", "field", "1")
        assert drained_within(tracker) is True
        # Drained once: the next call reports nothing new.
        assert tracker.drain() is False
        client.delete(f"{prefix}hash")
        assert drained_within(tracker) is True
    finally:
        tracker.close()


def test_pings_keep_a_quiet_connection_alive_and_their_answers_are_not_pushes(client: redis.Redis) -> None:
    tracker = InvalidationTracker(client, f"tracking-test:{uuid.uuid4().hex}:", ping_seconds=0.05, pong_timeout=1.0)
    try:
        heard = tracker.last_heard
        deadline = time.monotonic() + 1.0
        while tracker.last_heard == heard and time.monotonic() < deadline:
            assert tracker.drain() is False  # sends a PING when due; its PONG is no invalidation
            time.sleep(0.02)
        assert tracker.last_heard > heard, "no PONG was read back"
    finally:
        tracker.close()


def test_a_frozen_redis_is_noticed_by_its_silence() -> None:
    port = free_port()
    proc = start_process(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port=port
    )
    client = redis.Redis.from_url(f"redis://127.0.0.1:{port}/0")
    try:
        tracker = InvalidationTracker(client, "tracking-test:", ping_seconds=0.05, pong_timeout=0.2)
        os.kill(proc.pid, signal.SIGSTOP)  # no FIN, no RST: nothing for poll(2) to see
        deadline = time.monotonic() + 2.0
        with pytest.raises(redis.TimeoutError):
            while time.monotonic() < deadline:
                tracker.drain()
                time.sleep(0.02)
        tracker.close()
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        client.close()
        stop_process(proc)
