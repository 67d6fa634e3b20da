"""`python -m jobs.worker` as a real process: health and metrics, graceful SIGTERM, a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import requests
from jobs.dispatcher import Dispatcher
from jobs.providers.pubsub import PubSubProvider
from jobs.providers.redis_streams import RedisStreamsProvider
from jobs.registry import JobRegistry
from jobs_fake_pubsub import FakePubSub
from jobs_support import RELAY_SECRET, wait_until
from testkit.servers import free_port, wait_for_port

pytestmark = pytest.mark.integration
TESTS = Path(__file__).parent


@pytest.fixture()
def spawn(redis_url: str) -> Iterator[Callable[..., tuple[subprocess.Popen, int]]]:
    procs: list[subprocess.Popen] = []

    def start(key: str, port: int | None = None, **env: str) -> tuple[subprocess.Popen, int]:
        port = port or free_port()
        full_env = {
            **os.environ,
            "PYTHONPATH": str(TESTS),
            "SAMPLE_REDIS_URL": redis_url,
            "SAMPLE_KEY": key,
            "JOBS_WORKER_PORT": str(port),
            "JOBS_CONCURRENCY": "1",
            "JOBS_MAX_ATTEMPTS": "5",
            "JOBS_RETRY_DELAY_SECONDS": "0.1",
            **env,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobs.worker", "--app", "jobs_sample_app:register", "--shutdown-seconds", "20"],
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        wait_for_port(port, 30, proc)
        return proc, port

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _registry() -> JobRegistry:
    from jobs_sample_app import Work

    registry = JobRegistry()
    registry.register("sample.work", Work)
    return registry


def test_health_metrics_and_graceful_sigterm(redis_url: str, spawn) -> None:
    key, prefix = uuid.uuid4().hex, f"w{uuid.uuid4().hex[:8]}"
    proc, port = spawn(key, JOBS_PROVIDER="redis", JOBS_REDIS_URL=redis_url, JOBS_REDIS_PREFIX=prefix)
    base = f"http://127.0.0.1:{port}"
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    ready = requests.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["job_types"] == ["sample.work"]

    provider = RedisStreamsProvider.from_url(redis_url, prefix=prefix)
    dispatcher = Dispatcher(_registry(), provider)
    quick = dispatcher.dispatch("sample.work", {"sleep": 0})
    store = redis.Redis.from_url(redis_url, decode_responses=True)
    assert wait_until(lambda: store.llen(f"{key}:done") == 1)
    metrics = requests.get(f"{base}/metrics", timeout=5).text
    assert 'jobs_succeeded_total{provider="redis",type="sample.work"} 1.0' in metrics
    assert 'jobs_handler_duration_seconds_count{provider="redis",type="sample.work"} 1.0' in metrics

    slow = dispatcher.dispatch("sample.work", {"sleep": 1.5})
    assert wait_until(lambda: store.llen(f"{key}:started") == 2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    # The job in flight finished before the worker left, and was acknowledged.
    assert [d.split(":")[0] for d in store.lrange(f"{key}:done", 0, -1)] == [quick, slow]
    assert provider.client.xpending(provider.stream("sample.work"), provider.group)["pending"] == 0


def test_killed_redis_worker_leaves_its_job_to_another_worker(redis_url: str, spawn) -> None:
    key, prefix = uuid.uuid4().hex, f"w{uuid.uuid4().hex[:8]}"
    env = {
        "JOBS_PROVIDER": "redis",
        "JOBS_REDIS_URL": redis_url,
        "JOBS_REDIS_PREFIX": prefix,
        "JOBS_REDIS_CLAIM_IDLE_SECONDS": "1",
    }
    first, _ = spawn(key, **env)
    job_id = Dispatcher(_registry(), RedisStreamsProvider.from_url(redis_url, prefix=prefix)).dispatch(
        "sample.work", {"sleep": 2}
    )
    store = redis.Redis.from_url(redis_url, decode_responses=True)
    assert wait_until(lambda: store.llen(f"{key}:started") == 1)

    first.send_signal(signal.SIGKILL)  # dies mid-job: no ack, no cleanup
    first.wait(10)
    second, _ = spawn(key, **env)

    assert wait_until(lambda: store.llen(f"{key}:done") == 1, timeout=20)
    done_id, attempt, pid = store.lrange(f"{key}:done", 0, -1)[0].split(":")
    assert (done_id, attempt, int(pid)) == (job_id, "2", second.pid)


def test_killed_pubsub_worker_leaves_its_job_to_another_worker(
    redis_url: str, spawn, pubsub_server: FakePubSub, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, project = uuid.uuid4().hex, f"p{uuid.uuid4().hex[:8]}"
    host = f"127.0.0.1:{pubsub_server.port}"
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", host)
    monkeypatch.setattr(pubsub_server, "max_lease_seconds", 1.0)  # an expired lease shows up fast
    env = {"JOBS_PROVIDER": "pubsub", "PUBSUB_EMULATOR_HOST": host, "PUBSUB_PROJECT_ID": project}
    first, _ = spawn(key, **env)
    job_id = Dispatcher(_registry(), PubSubProvider(project)).dispatch("sample.work", {"sleep": 2})
    store = redis.Redis.from_url(redis_url, decode_responses=True)
    assert wait_until(lambda: store.llen(f"{key}:started") == 1)

    first.send_signal(signal.SIGKILL)
    first.wait(10)
    second, _ = spawn(key, **env)

    assert wait_until(lambda: store.llen(f"{key}:done") == 1, timeout=20)
    done_id, attempt, pid = store.lrange(f"{key}:done", 0, -1)[0].split(":")
    assert (done_id, attempt, int(pid)) == (job_id, "2", second.pid)


def test_qstash_worker_serves_the_push_endpoint(redis_url: str, spawn, qstash_server) -> None:
    from jobs.providers.qstash import QStashProvider

    key, port = uuid.uuid4().hex, free_port()
    base = f"http://127.0.0.1:{port}"
    spawn(
        key,
        port=port,
        JOBS_PROVIDER="qstash",
        QSTASH_TOKEN=qstash_server.token,
        QSTASH_URL=qstash_server.url,
        QSTASH_CURRENT_SIGNING_KEY=qstash_server.current_key,
        QSTASH_NEXT_SIGNING_KEY=qstash_server.next_key,
        JOBS_RELAY_SECRET=RELAY_SECRET,
        JOBS_PUSH_BASE_URL=base,
    )
    assert requests.get(f"{base}/readyz", timeout=5).status_code == 200  # no consumer loop needed

    provider = QStashProvider(qstash_server.token, base, RELAY_SECRET, qstash_url=qstash_server.url)
    job_id = Dispatcher(_registry(), provider).dispatch("sample.work", {"sleep": 0})

    store = redis.Redis.from_url(redis_url, decode_responses=True)
    assert wait_until(lambda: store.llen(f"{key}:done") == 1)
    assert store.lrange(f"{key}:done", 0, -1)[0].split(":")[:2] == [job_id, "1"]
    unsigned = requests.post(f"{base}/jobs/sample.work", json={"sleep": 0}, timeout=5)
    assert unsigned.status_code == 401


def test_provision_creates_topics_subscriptions_and_dead_letter_policy_idempotently(pubsub_server: FakePubSub) -> None:
    project = f"p{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS),
        "JOBS_PROVIDER": "pubsub",
        "PUBSUB_PROJECT_ID": project,
        "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{pubsub_server.port}",
        "SAMPLE_REDIS_URL": "redis://unused",
        "SAMPLE_KEY": "unused",
        "JOBS_MAX_ATTEMPTS": "7",
    }
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "jobs.provision", "--app", "jobs_sample_app:register", "--types", "extra.type"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr

    topics = sorted(n.rsplit("/", 1)[1] for n in pubsub_server.topics if f"/{project}/" in n)
    assert topics == ["jobs.extra.type", "jobs.extra.type.dead", "jobs.sample.work", "jobs.sample.work.dead"]
    sub = pubsub_server.subs[f"projects/{project}/subscriptions/jobs.sample.work.workers"].sub
    assert sub.dead_letter_policy.dead_letter_topic == f"projects/{project}/topics/jobs.sample.work.dead"
    assert sub.dead_letter_policy.max_delivery_attempts == 7
    assert f"projects/{project}/subscriptions/jobs.sample.work.dead.parked" in pubsub_server.subs
