"""The Trigger.dev provider over real HTTP against the fake API (jobs_fake_trigger.py): the requests it sends,
the errors it meets (401, 400, 404, 422, 429 with Retry-After or x-ratelimit-reset), batch trigger, run status,
cancel, delay and TTL; the relay signature on the push endpoint; and the whole path with `python -m jobs.worker`
as a process: dispatch -> Trigger.dev -> relay -> push endpoint -> handler, with retries and a duplicate."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
import requests
from jobs import JobContext, PermanentJobError, relay_signature
from jobs.dispatcher import Dispatcher
from jobs.errors import ProviderNotConfigured, PublishError
from jobs.providers import build_provider
from jobs.providers.inprocess import InProcessProvider
from jobs.providers.trigger import DELAY_ATTRIBUTE, TTL_ATTRIBUTE, TriggerDevProvider
from jobs.push import QStashVerifier, TriggerRelayVerifier, push_blueprint, verifier_from_settings
from jobs.registry import JobRegistry
from jobs.settings import JobsSettings
from jobs.spi import Job
from jobs_fake_trigger import FakeTriggerDev
from jobs_support import RELAY_SECRET, serve, wait_until
from pydantic import BaseModel
from servicekit import ServiceSettings
from servicekit import create_app as servicekit_app
from testkit.servers import free_port, wait_for_port

pytestmark = pytest.mark.integration
TESTS = Path(__file__).parent
PUSH = "http://push.invalid"  # a receiver that is never reached: these runs stay queued or are inspected only


def _provider(fake: FakeTriggerDev, **kwargs) -> TriggerDevProvider:
    return TriggerDevProvider(fake.secret_key, PUSH, api_url=fake.url, **kwargs)


def _job(**attributes: str) -> Job:
    return Job(type="load.assigned", payload={"load_id": "L-1"}, attributes=attributes)


# -- requests and errors --------------------------------------------------------------------------------


def test_trigger_sends_the_documented_request(trigger_server: FakeTriggerDev) -> None:
    trigger_server.paused = True
    provider = _provider(trigger_server, max_attempts=4, queue="jobs", ttl="10m")
    job = _job(source="fleet-api", **{DELAY_ATTRIBUTE: "30s"})

    provider.publish(job)

    [(method, path, headers, body)] = trigger_server.calls("/api/v1/tasks/")
    assert (method, path) == ("POST", "/api/v1/tasks/jobs-deliver/trigger")
    assert headers["Authorization"] == f"Bearer {trigger_server.secret_key}"
    assert body == {
        "payload": {
            "url": f"{PUSH}/jobs/load.assigned",
            "id": job.id,
            "type": "load.assigned",
            "payload": {"load_id": "L-1"},
            "attributes": {"source": "fleet-api", DELAY_ATTRIBUTE: "30s"},
        },
        "options": {
            "idempotencyKey": job.id,
            "maxAttempts": 4,
            "tags": [f"job:{job.id}", "type:load.assigned"],
            "queue": {"name": "jobs"},
            "ttl": "10m",
            "delay": "30s",
        },
    }
    status = provider.status(job.id)
    assert (status.state, status.provider_status, status.type) == ("pending", "DELAYED", "load.assigned")
    assert status.run_id and status.run_id.startswith("run_")


def test_a_wrong_secret_key_is_a_publish_error_without_retries(trigger_server: FakeTriggerDev) -> None:
    provider = TriggerDevProvider("tr_dev_wrong", PUSH, api_url=trigger_server.url)
    with pytest.raises(PublishError, match="HTTP 401 Invalid API Key"):
        provider.publish(_job())
    assert len(trigger_server.calls("/api/v1/tasks/")) == 1
    assert trigger_server.runs == {}


def test_refusals_of_the_api_are_publish_errors_with_its_message(trigger_server: FakeTriggerDev) -> None:
    with pytest.raises(PublishError, match="HTTP 422 Specified queue 'nightly' not found"):
        _provider(trigger_server, queue="nightly").publish(_job())
    with pytest.raises(PublishError, match="HTTP 404 Task not found"):
        _provider(trigger_server, task_id="not-deployed").publish(_job())
    assert trigger_server.runs == {}


def test_a_type_too_long_for_a_tag_is_published_with_the_job_tag_only(trigger_server: FakeTriggerDev) -> None:
    trigger_server.paused = True
    provider = _provider(trigger_server)
    job = Job(type="t" * 130, payload={})
    provider.publish(job)  # a tag of 128 characters or more would be refused with a 400
    [(_, _, _, body)] = trigger_server.calls("/api/v1/tasks/")
    assert body["options"]["tags"] == [f"job:{job.id}"]


@pytest.mark.parametrize("retry_after", [1.0, None], ids=["retry-after", "x-ratelimit-reset"])
def test_429_waits_as_long_as_the_api_says_then_succeeds(trigger_server: FakeTriggerDev, retry_after) -> None:
    trigger_server.paused = True
    trigger_server.rate_limited = 1
    trigger_server.rate_limit_retry_after = retry_after
    provider = _provider(trigger_server)

    started = time.monotonic()
    provider.publish(job := _job())
    waited = time.monotonic() - started

    assert [c[1] for c in trigger_server.calls("/api/v1/tasks/")] == ["/api/v1/tasks/jobs-deliver/trigger"] * 2
    assert waited >= 0.8  # the hinted second, not the client's 0.2 s first backoff
    assert provider.status(job.id).provider_status == "QUEUED"


def test_429_beyond_the_client_budget_is_a_publish_error(trigger_server: FakeTriggerDev) -> None:
    trigger_server.rate_limited = 10
    trigger_server.rate_limit_retry_after = 1.0
    provider = _provider(trigger_server, client_attempts=2)
    with pytest.raises(PublishError, match="HTTP 429 Rate limit exceeded"):
        provider.publish(_job())
    assert len(trigger_server.calls("/api/v1/tasks/")) == 2


def test_the_readiness_probe_asks_once_and_says_why_it_failed(trigger_server: FakeTriggerDev) -> None:
    _provider(trigger_server).ping()
    with pytest.raises(PublishError, match="HTTP 401 Invalid API Key"):
        TriggerDevProvider("tr_dev_wrong", PUSH, api_url=trigger_server.url).ping()
    trigger_server.rate_limited = 5
    with pytest.raises(PublishError, match="HTTP 429"):
        _provider(trigger_server).ping()
    assert trigger_server.rate_limited == 4  # one request, no retry


def test_an_unreachable_api_is_a_publish_error() -> None:
    provider = TriggerDevProvider(
        "tr_dev_x", PUSH, api_url=f"http://127.0.0.1:{free_port()}", client_attempts=2, client_total_seconds=2
    )
    with pytest.raises(PublishError, match="unreachable"):
        provider.publish(_job())


def test_settings_select_and_configure_the_provider(trigger_server: FakeTriggerDev) -> None:
    settings = JobsSettings(
        provider="trigger",
        trigger_secret_key=trigger_server.secret_key,
        trigger_api_url=trigger_server.url,
        trigger_task_id="jobs-deliver",
        push_base_url=PUSH,
        max_attempts=7,
        relay_secret=RELAY_SECRET,
    )
    provider = build_provider(settings)
    assert isinstance(provider, TriggerDevProvider)
    assert (provider.max_attempts, provider.push_base_url, provider.http.base_url) == (7, PUSH, trigger_server.url)
    provider.ping()
    assert isinstance(verifier_from_settings(settings), TriggerRelayVerifier)
    with pytest.raises(ProviderNotConfigured, match="TRIGGER_SECRET_KEY and JOBS_PUSH_BASE_URL"):
        build_provider(JobsSettings(provider="trigger", push_base_url=PUSH))
    with pytest.raises(ProviderNotConfigured, match="JOBS_RELAY_SECRET"):
        verifier_from_settings(JobsSettings(provider="trigger"))
    with pytest.raises(ProviderNotConfigured, match="QSTASH_CURRENT_SIGNING_KEY"):
        verifier_from_settings(JobsSettings(provider="qstash"))
    keys = {"qstash_current_signing_key": "c" * 32, "qstash_next_signing_key": "n" * 32}
    with pytest.raises(ProviderNotConfigured, match="JOBS_RELAY_SECRET"):  # it signs the job's id and attributes
        verifier_from_settings(JobsSettings(provider="qstash", **keys))
    assert isinstance(
        verifier_from_settings(JobsSettings(provider="qstash", relay_secret=RELAY_SECRET, **keys)), QStashVerifier
    )


# -- batch, status, cancel, delay, TTL ------------------------------------------------------------------


def test_batch_trigger_sends_one_request_and_maps_every_job_to_its_run(trigger_server: FakeTriggerDev) -> None:
    trigger_server.paused = True
    provider = _provider(trigger_server)
    jobs = [_job() for _ in range(3)]

    provider.publish_many(jobs)

    [(_, path, _, body)] = trigger_server.calls("/api/v1/tasks/")
    assert path == "/api/v1/tasks/jobs-deliver/batch"
    assert [item["options"]["idempotencyKey"] for item in body["items"]] == [j.id for j in jobs]
    assert [item["payload"]["id"] for item in body["items"]] == [j.id for j in jobs]
    run_ids = [provider.status(j.id).run_id for j in jobs]
    assert len(set(run_ids)) == 3
    assert [trigger_server.runs[r].payload["id"] for r in run_ids] == [j.id for j in jobs]
    assert not trigger_server.calls("/api/v1/runs")  # the trigger answers were remembered, no lookup needed


def test_status_follows_the_run_and_is_found_by_tag_from_another_process(trigger_server: FakeTriggerDev) -> None:
    trigger_server.paused = True
    attempts: list[int] = []

    def flaky(payload, attempt: int) -> None:
        attempts.append(attempt)
        if attempt == 1:
            raise RuntimeError("push answered HTTP 500")

    trigger_server.executor = flaky
    job = _job()
    _provider(trigger_server).publish(job)
    other = _provider(trigger_server)  # knows nothing of the trigger answer

    assert other.status(job.id).state == "pending"
    [(_, path, _, _)] = trigger_server.calls("/api/v1/runs")
    query = parse_qs(urlsplit(path).query)
    assert query["filter[tag]"] == [f"job:{job.id}"] and query["filter[taskIdentifier]"] == ["jobs-deliver"]
    trigger_server.paused = False
    assert wait_until(lambda: other.status(job.id).state == "succeeded")
    final = other.status(job.id)
    assert (final.provider_status, final.attempts, final.error) == ("COMPLETED", 2, None)
    assert attempts == [1, 2]
    with pytest.raises(LookupError):
        other.status(str(uuid.uuid4()))


def test_cancel_stops_a_queued_run_and_leaves_a_finished_one(trigger_server: FakeTriggerDev) -> None:
    trigger_server.paused = True
    ran: list[str] = []
    trigger_server.executor = lambda payload, attempt: ran.append(payload["id"])
    provider = _provider(trigger_server)
    waiting, done = _job(), _job()
    provider.publish(waiting)

    assert provider.cancel(waiting.id) is True
    assert [c[1] for c in trigger_server.calls("/api/v2/runs/")] == [
        f"/api/v2/runs/{provider.status(waiting.id).run_id}/cancel"
    ]
    trigger_server.paused = False
    provider.publish(done)
    assert wait_until(lambda: provider.status(done.id).state == "succeeded")
    assert provider.cancel(done.id) is False
    assert provider.status(waiting.id).state == "canceled"
    assert ran == [done.id]


def test_delay_and_ttl_are_run_options(trigger_server: FakeTriggerDev) -> None:
    ran: list[tuple[str, float]] = []
    trigger_server.executor = lambda payload, attempt: ran.append((payload["id"], time.monotonic()))
    provider = _provider(trigger_server)
    started = time.monotonic()
    later = _job(**{DELAY_ATTRIBUTE: "1s"})
    provider.publish(later)
    assert provider.status(later.id).provider_status == "DELAYED"
    assert wait_until(lambda: provider.status(later.id).state == "succeeded", timeout=5)
    assert ran[0][0] == later.id and ran[0][1] - started >= 0.9

    trigger_server.paused = True  # nothing takes the run before its TTL ends
    stale = _job(**{TTL_ATTRIBUTE: "1s"})
    provider.publish(stale)
    assert wait_until(lambda: provider.status(stale.id).state == "expired", timeout=5)
    assert [j.id for j in provider.dead_letters("load.assigned")] == [stale.id]


# -- the relay signature on the push endpoint --------------------------------------------------------------


class Order(BaseModel):
    order_id: int


@pytest.fixture()
def receiver() -> Iterator[tuple[str, list[tuple[str, int]]]]:
    handled: list[tuple[str, int]] = []
    registry = JobRegistry()

    def handle(order: Order, ctx: JobContext) -> None:
        if order.order_id == 489:
            raise PermanentJobError("order was deleted")
        handled.append((ctx.id, ctx.attempt))

    registry.register("bakery.batch", Order, handle)
    app = servicekit_app(ServiceSettings(jwt_secret="x" * 32, service_name="relay-test"), import_name="relay_test")
    app.register_blueprint(
        push_blueprint(Dispatcher(registry, InProcessProvider()), TriggerRelayVerifier(RELAY_SECRET))
    )
    url, stop = serve(app)
    yield url, handled
    stop()


def _push(url: str, body: bytes, *, job_id: str = "job-1", signature: str | None = None, **headers: str):
    signed = signature if signature is not None else relay_signature.sign(RELAY_SECRET, "bakery.batch", job_id, body)
    return requests.post(
        f"{url}/jobs/bakery.batch",
        data=body,
        headers={"Content-Type": "application/json", "X-Job-Id": job_id, "X-Jobs-Signature": signed, **headers},
        timeout=5,
    )


def test_the_push_endpoint_takes_only_pushes_signed_by_the_relay(receiver) -> None:
    url, handled = receiver
    body = b'{"order_id":7}'
    assert _push(url, body, **{"X-Job-Attempt": "3"}).status_code == 200
    assert handled == [("job-1", 3)]

    other_job = relay_signature.sign(RELAY_SECRET, "bakery.batch", "job-2", body)
    stale = relay_signature.sign(RELAY_SECRET, "bakery.batch", "job-1", body, now=time.time() - 600)
    wrong_key = relay_signature.sign("another-secret-0123456789", "bakery.batch", "job-1", body)
    other_type = relay_signature.sign(RELAY_SECRET, "load.assigned", "job-1", body)
    for signature, reason in [
        (other_job, "does not match"),
        (stale, "outside the tolerance"),
        (wrong_key, "does not match"),
        (other_type, "does not match"),
        ("", "missing X-Jobs-Signature"),
        ("v1=abc", "malformed"),
    ]:
        refused = _push(url, body, signature=signature)
        assert refused.status_code == 401, reason
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert reason in refused.json()["detail"]
    tampered = _push(
        url, b'{"order_id":8}', signature=relay_signature.sign(RELAY_SECRET, "bakery.batch", "job-1", body)
    )
    assert tampered.status_code == 401
    assert handled == [("job-1", 3)]


def test_a_permanent_failure_answers_489_which_the_relay_treats_as_final(receiver) -> None:
    url, handled = receiver
    answer = _push(url, b'{"order_id":489}')
    assert answer.status_code == 489 and answer.json()["detail"] == "order was deleted"
    assert _push(url, b'{"order_id":"x"}').status_code == 422
    assert handled == []


# -- the whole path with the worker process ----------------------------------------------------------------


@pytest.fixture()
def trigger_worker(redis_url: str, trigger_server: FakeTriggerDev) -> Iterator[tuple[str, str, JobsSettings]]:
    """`python -m jobs.worker` with JOBS_PROVIDER=trigger, serving the push endpoint the relay posts to."""
    key, port = uuid.uuid4().hex, free_port()
    env = {
        "JOBS_PROVIDER": "trigger",
        "TRIGGER_SECRET_KEY": trigger_server.secret_key,
        "TRIGGER_API_URL": trigger_server.url,
        "JOBS_PUSH_BASE_URL": f"http://127.0.0.1:{port}",
        "JOBS_RELAY_SECRET": RELAY_SECRET,
        "JOBS_MAX_ATTEMPTS": "3",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--app", "jobs_sample_app:register"],
        env={
            **os.environ,
            **env,
            "PYTHONPATH": str(TESTS),
            "SAMPLE_REDIS_URL": redis_url,
            "SAMPLE_KEY": key,
            "JOBS_WORKER_PORT": str(port),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 30, proc)
        settings = JobsSettings(**{k: v for k, v in env.items() if k != "JOBS_RELAY_SECRET"})
        yield f"http://127.0.0.1:{port}", key, settings
    finally:
        proc.terminate()
        proc.wait(20)


def test_dispatch_runs_the_python_handler_through_trigger_dev_with_retries_and_once_per_job(
    redis_url: str, trigger_server: FakeTriggerDev, trigger_worker
) -> None:
    from jobs_sample_app import Work
    from jobs_trigger_relay import relay_executor

    base, key, settings = trigger_worker
    trigger_server.executor = relay_executor(RELAY_SECRET)
    ready = requests.get(f"{base}/readyz", timeout=5).json()
    assert ready["provider"] == "trigger" and ready["checks"] == {"broker": "ok", "consumers": "ok"}

    registry = JobRegistry()
    registry.register("sample.work", Work)
    provider = build_provider(settings)
    dispatcher = Dispatcher(registry, provider)
    flaky = dispatcher.dispatch("sample.work", {"fail_attempts": 1})
    steady = dispatcher.dispatch("sample.work", {})
    provider.publish(Job(type="sample.work", payload={}, id=steady))  # a relay retrying after a crash
    poison = dispatcher.dispatch("sample.work", {"fail_attempts": 9})

    store = redis.Redis.from_url(redis_url, decode_responses=True)
    assert wait_until(lambda: provider.status(poison).state == "failed", timeout=20)
    assert wait_until(lambda: provider.status(flaky).state == "succeeded" == provider.status(steady).state)
    done = [entry.rsplit(":", 1)[0] for entry in store.lrange(f"{key}:done", 0, -1)]
    started = [entry.rsplit(":", 1)[0] for entry in store.lrange(f"{key}:started", 0, -1)]
    assert sorted(done) == sorted([f"{flaky}:2", f"{steady}:1"])
    assert sorted(started) == sorted([f"{flaky}:1", f"{flaky}:2", f"{steady}:1"] + [f"{poison}:{n}" for n in (1, 2, 3)])
    assert provider.status(flaky).attempts == 2
    assert [j.id for j in provider.dead_letters("sample.work")] == [poison]
    metrics = requests.get(f"{base}/metrics", timeout=5).text
    assert 'jobs_retried_total{provider="trigger",type="sample.work"} 3.0' in metrics
    assert ready["job_types"] == ["sample.work"]
