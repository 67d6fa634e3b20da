"""The push blueprint (`POST /jobs/<type>`) over real HTTP, mounted in a servicekit app with its JWT guard."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests
from jobs import JobContext, PermanentJobError
from jobs.dispatcher import Dispatcher
from jobs.providers.inprocess import InProcessProvider
from jobs.push import QStashVerifier, push_blueprint
from jobs.registry import JobRegistry
from jobs_fake_qstash import sign
from jobs_support import serve
from pydantic import BaseModel
from servicekit import ServiceSettings
from servicekit import create_app as servicekit_app

CURRENT, NEXT = "sig_current_" + "c" * 32, "sig_next_" + "n" * 32


class Order(BaseModel):
    order_id: int


@pytest.fixture()
def receiver() -> Iterator[tuple[str, list[tuple[str, int]]]]:
    handled: list[tuple[str, int]] = []
    registry = JobRegistry()

    def handle(order: Order, ctx: JobContext) -> None:
        if order.order_id == 500:
            raise RuntimeError("database down")
        if order.order_id == 489:
            raise PermanentJobError("order was deleted")
        handled.append((ctx.id, ctx.attempt))

    registry.register("bakery.batch", Order, handle)
    registry.register("only.produced", Order)  # known here, but handled elsewhere
    settings = ServiceSettings(jwt_secret="x" * 32, service_name="push-test")
    app = servicekit_app(settings, import_name="push_test")
    app.register_blueprint(push_blueprint(Dispatcher(registry, InProcessProvider()), QStashVerifier(CURRENT, NEXT)))
    url, stop = serve(app)
    yield url, handled
    stop()


def _post(
    url: str,
    job_type: str,
    body: bytes,
    *,
    key: str = CURRENT,
    signed_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    target = f"{url}/jobs/{job_type}"
    signature = sign(key, signed_url or target, body)
    return requests.post(
        target,
        data=body,
        timeout=10,
        headers={
            "Content-Type": "application/json",
            "Upstash-Signature": signature,
            "X-Job-Id": "job-1",
            **(headers or {}),
        },
    )


def test_signed_push_runs_the_handler_and_answers_200(receiver) -> None:
    url, handled = receiver
    response = _post(url, "bakery.batch", b'{"order_id": 7}', headers={"Upstash-Retried": "2"})

    assert response.status_code == 200
    assert response.json() == {"id": "job-1", "type": "bakery.batch", "status": "done"}
    assert handled == [("job-1", 3)]


def test_next_signing_key_is_accepted_during_rotation(receiver) -> None:
    url, handled = receiver
    assert _post(url, "bakery.batch", b'{"order_id": 7}', key=NEXT).status_code == 200


@pytest.mark.parametrize("case", ["missing", "wrong key", "other body", "other url", "expired"])
def test_bad_signature_is_401_and_runs_nothing(receiver, case: str) -> None:
    url, handled = receiver
    target, body = f"{url}/jobs/bakery.batch", b'{"order_id": 7}'
    signature = {
        "missing": None,
        "wrong key": sign("sig_attacker_" + "a" * 32, target, body),
        "other body": sign(CURRENT, target, b'{"order_id": 8}'),
        "other url": sign(CURRENT, f"{url}/jobs/other", body),
        "expired": sign(CURRENT, target, body, ttl=10, now=time.time() - 3600),
    }[case]
    headers = {"Content-Type": "application/json", "X-Job-Id": "job-1"}
    if signature:
        headers["Upstash-Signature"] = signature
    response = requests.post(target, data=body, headers=headers, timeout=10)

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert handled == []


def test_unknown_type_is_404(receiver) -> None:
    url, _ = receiver
    for job_type in ("no.such.type", "only.produced"):
        response = _post(url, job_type, b'{"order_id": 7}')
        assert response.status_code == 404
        assert response.headers["Content-Type"] == "application/problem+json"


def test_payload_failing_validation_is_422_with_the_errors(receiver) -> None:
    url, handled = receiver
    response = _post(url, "bakery.batch", b'{"order_id": "seven"}')

    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["loc"] == ["order_id"]
    assert _post(url, "bakery.batch", b"not json").status_code == 422
    assert handled == []


def test_a_signed_but_deeply_nested_body_is_a_400_naming_the_limit(receiver) -> None:
    url, handled = receiver
    response = _post(url, "bakery.batch", b"[" * 50_000 + b"]" * 50_000)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "64 levels" in response.json()["detail"]
    assert handled == []


def test_handler_failure_is_5xx_so_the_sender_retries(receiver) -> None:
    url, _ = receiver
    response = _post(url, "bakery.batch", json.dumps({"order_id": 500}).encode())

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "Traceback" not in response.text and "database down" not in response.text


def test_permanent_failure_tells_qstash_not_to_retry(receiver) -> None:
    url, _ = receiver
    response = _post(url, "bakery.batch", b'{"order_id": 489}')

    assert response.status_code == 489
    assert response.headers["Upstash-NonRetryable-Error"] == "true"


def test_duplicate_push_with_the_idempotency_guard_runs_once(redis_url: str) -> None:
    from jobs.idempotency import IdempotencyGuard, RedisIdempotencyStore

    guard = IdempotencyGuard(RedisIdempotencyStore.from_url(redis_url, prefix="push-dup:"))
    effects: list[str] = []
    registry = JobRegistry()
    registry.register("bakery.batch", Order, guard(lambda order, ctx: effects.append(ctx.id)))
    app = servicekit_app(ServiceSettings(jwt_secret="x" * 32), import_name="dup_test")
    app.register_blueprint(push_blueprint(Dispatcher(registry, InProcessProvider()), QStashVerifier(CURRENT, NEXT)))
    url, stop = serve(app)
    try:
        first = _post(url, "bakery.batch", b'{"order_id": 1}', headers={"X-Job-Id": "dup-1"})
        again = _post(url, "bakery.batch", b'{"order_id": 1}', headers={"X-Job-Id": "dup-1", "Upstash-Retried": "1"})
    finally:
        stop()
    assert (first.status_code, again.status_code) == (200, 200)
    assert effects == ["dup-1"]
