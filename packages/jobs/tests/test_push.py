"""The push blueprint (`POST /jobs/<type>`) over real HTTP, mounted in a servicekit app with its JWT guard;
QStash's verifier (QStash's JWT plus the publisher's signature of the job's id and attributes), the job's
attributes as headers every server keeps, and any malformed signature header answered 401, never 500."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jobs import JobContext, PermanentJobError, relay_signature
from jobs.dispatcher import Dispatcher
from jobs.providers.inprocess import InProcessProvider
from jobs.push import QStashVerifier, SignatureInvalid, TriggerRelayVerifier, push_blueprint
from jobs.registry import JobRegistry
from jobs_fake_qstash import sign
from jobs_support import RELAY_SECRET, serve
from pydantic import BaseModel
from servicekit import ServiceSettings
from servicekit import create_app as servicekit_app

CURRENT, NEXT = "sig_current_" + "c" * 32, "sig_next_" + "n" * 32


class Order(BaseModel):
    order_id: int


def qstash_verifier() -> QStashVerifier:
    return QStashVerifier(CURRENT, NEXT, RELAY_SECRET)


def receiving_app(handled: list, verifier) -> object:
    registry = JobRegistry()

    def handle(order: Order, ctx: JobContext) -> None:
        if order.order_id == 500:
            raise RuntimeError("database down")
        if order.order_id == 489:
            raise PermanentJobError("order was deleted")
        handled.append((ctx.id, ctx.attempt, dict(ctx.attributes)))

    registry.register("bakery.batch", Order, handle)
    registry.register("only.produced", Order)  # known here, but handled elsewhere
    settings = ServiceSettings(jwt_secret="x" * 32, service_name="push-test")
    app = servicekit_app(settings, import_name="push_test")
    app.register_blueprint(push_blueprint(Dispatcher(registry, InProcessProvider()), verifier))
    return app


@pytest.fixture()
def receiver() -> Iterator[tuple[str, list[tuple[str, int, dict]]]]:
    handled: list[tuple[str, int, dict]] = []
    url, stop = serve(receiving_app(handled, qstash_verifier()))
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
    attributes: dict[str, str] | None = None,
    job_id: str = "job-1",
) -> requests.Response:
    """A push as QStash delivers one the QStash provider published: QStash's JWT, the publisher's
    signature of the job, the job id and attributes as forwarded headers."""
    target = f"{url}/jobs/{job_type}"
    attributes = attributes or {}
    return requests.post(
        target,
        data=body,
        timeout=10,
        headers={
            "Content-Type": "application/json",
            "Upstash-Signature": sign(key, signed_url or target, body),
            "X-Job-Id": job_id,
            "X-Jobs-Signature": relay_signature.sign(RELAY_SECRET, job_type, job_id, body, attributes),
            **relay_signature.attribute_headers(attributes),
            **(headers or {}),
        },
    )


def test_signed_push_runs_the_handler_and_answers_200(receiver) -> None:
    url, handled = receiver
    response = _post(url, "bakery.batch", b'{"order_id": 7}', headers={"Upstash-Retried": "2"})

    assert response.status_code == 200
    assert response.json() == {"id": "job-1", "type": "bakery.batch", "status": "done"}
    assert handled == [("job-1", 3, {})]


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
    job = relay_signature.sign(RELAY_SECRET, "bakery.batch", "job-1", body)
    headers = {"Content-Type": "application/json", "X-Job-Id": "job-1", "X-Jobs-Signature": job}
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
    app.register_blueprint(push_blueprint(Dispatcher(registry, InProcessProvider()), qstash_verifier()))
    url, stop = serve(app)
    try:
        first = _post(url, "bakery.batch", b'{"order_id": 1}', job_id="dup-1")
        again = _post(url, "bakery.batch", b'{"order_id": 1}', job_id="dup-1", headers={"Upstash-Retried": "1"})
    finally:
        stop()
    assert (first.status_code, again.status_code) == (200, 200)
    assert effects == ["dup-1"]


# --- attributes -------------------------------------------------------------------------------------------
def test_attributes_reach_the_handler_under_header_names_every_server_keeps(receiver) -> None:
    url, handled = receiver
    attributes = {"request_id": "req-7f3a", "source": "fleet-api", "note": "crème brûlée & co"}
    response = _post(url, "bakery.batch", b'{"order_id": 7}', attributes=attributes)
    assert response.status_code == 200, response.text
    assert handled == [("job-1", 1, attributes)]
    assert relay_signature.attribute_header("request_id") == "X-Job-Attr-Request-Id"


def test_a_header_name_with_an_underscore_never_reaches_the_endpoint(receiver) -> None:
    """Why attribute headers have no underscores: the server (werkzeug here; gunicorn drops them by
    default, nginx too) drops the header, so the attribute is lost and the signature no longer matches."""
    url, handled = receiver
    body = b'{"order_id": 7}'
    target = f"{url}/jobs/bakery.batch"
    response = requests.post(
        target,
        data=body,
        timeout=10,
        headers={
            "Content-Type": "application/json",
            "Upstash-Signature": sign(CURRENT, target, body),
            "X-Job-Id": "job-1",
            "X-Jobs-Signature": relay_signature.sign(RELAY_SECRET, "bakery.batch", "job-1", body, {"request_id": "r"}),
            "X-Job-Attr-request_id": "r",
        },
    )
    assert response.status_code == 401 and handled == []


@pytest.mark.parametrize("change", ["value", "added", "removed", "job id"])
def test_an_attribute_or_id_changed_under_the_same_signature_is_401(receiver, change: str) -> None:
    url, handled = receiver
    body = b'{"order_id": 7}'
    target = f"{url}/jobs/bakery.batch"
    attributes = {"request_id": "req-original"}
    headers = {
        "Content-Type": "application/json",
        "Upstash-Signature": sign(CURRENT, target, body),
        "X-Job-Id": "job-1",
        "X-Jobs-Signature": relay_signature.sign(RELAY_SECRET, "bakery.batch", "job-1", body, attributes),
        **relay_signature.attribute_headers(attributes),
    }
    if change == "value":
        headers["X-Job-Attr-Request-Id"] = "req-forged"
    elif change == "added":
        headers["X-Job-Attr-Source"] = "attacker"
    elif change == "removed":
        del headers["X-Job-Attr-Request-Id"]
    else:
        headers["X-Job-Id"] = "job-2"
    response = requests.post(target, data=body, headers=headers, timeout=10)
    assert response.status_code == 401 and "does not match" in response.json()["detail"]
    assert handled == []


# --- malformed signature headers ------------------------------------------------------------------------
MALFORMED = [
    "t=" + "1" * 400 + ",v2=" + "0" * 64,  # a timestamp too large for any clock
    "t=1e400,v2=00",
    "t=1796022000,v2=é",
    "t=1796022000,v2=" + "é" * 64,
    "t=1796022000",
    "v2=" + "0" * 64,
    "t=1796022000,v2=" + "0" * 64 + ",v2=" + "1" * 64,  # repeated part
    "t=1,t=2,v2=" + "0" * 64,
    "t=-5,v2=" + "0" * 64,
    "t=1796022000,v1=" + "0" * 64,  # the version before attributes were signed
    ",,,",
    "=",
    "t==,v2==",
    "\x00",
    "t=１７９６０２２０００,v2=" + "0" * 64,  # fullwidth digits: int() reads them, the header must not
]


@pytest.mark.parametrize("header", MALFORMED)
@pytest.mark.parametrize("verifier", ["trigger", "qstash"])
def test_every_malformed_job_signature_is_401_problem_json(header: str, verifier: str) -> None:
    handled: list = []
    chosen = TriggerRelayVerifier(RELAY_SECRET) if verifier == "trigger" else qstash_verifier()
    client = receiving_app(handled, chosen).test_client()
    body = b'{"order_id": 7}'
    target = "http://localhost/jobs/bakery.batch"
    response = client.post(
        "/jobs/bakery.batch",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Job-Id": "job-1",
            "Upstash-Signature": sign(CURRENT, target, body),
            "X-Jobs-Signature": header,
        },
    )
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    assert handled == []


@pytest.mark.parametrize("header", ["é", "Bearer x.y.z", "a.b.c", "e30.e30.", "x" * 5000, "ey" + "é" * 30 + ".a.b"])
def test_every_malformed_upstash_signature_is_401(header: str) -> None:
    handled: list = []
    client = receiving_app(handled, qstash_verifier()).test_client()
    response = client.post("/jobs/bakery.batch", data=b'{"order_id": 7}', headers={"Upstash-Signature": header})
    assert response.status_code == 401 and handled == []


HEADERS = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("tv12=,0123456789abcdefé \t")),
    st.builds(lambda t, d: f"t={t},v2={d}", st.text(), st.text()),
    st.builds(
        lambda t, d: f"t={t},v2={d}", st.integers(), st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=HEADERS)
def test_the_job_signature_verifiers_refuse_any_header_with_their_own_error(header: str) -> None:
    """Whatever the header holds, the verifiers raise their refusal, never anything else (a TypeError from
    compare_digest on non-ASCII text, an OverflowError on a huge timestamp were 500s)."""
    body = b'{"order_id": 7}'
    with pytest.raises(relay_signature.RelaySignatureError):
        relay_signature.verify(RELAY_SECRET, header, "bakery.batch", "job-1", body, {"request_id": "r"})
    for verifier in (TriggerRelayVerifier(RELAY_SECRET), qstash_verifier()):
        with pytest.raises(SignatureInvalid):
            verifier.verify(
                headers={"X-Jobs-Signature": header, "Upstash-Signature": header},
                body=body,
                url="http://localhost/jobs/bakery.batch",
                job_type="bakery.batch",
                job_id="job-1",
                attributes={},
            )


@settings(max_examples=100, deadline=None)
@given(header=HEADERS.filter(lambda h: "\n" not in h and "\r" not in h))
def test_any_signature_header_through_the_endpoint_is_401(header: str) -> None:
    client = receiving_app([], TriggerRelayVerifier(RELAY_SECRET)).test_client()
    response = client.post(
        "/jobs/bakery.batch",
        data=b'{"order_id": 7}',
        headers={"Content-Type": "application/json", "X-Job-Id": "job-1", "X-Jobs-Signature": header},
    )
    assert response.status_code == 401


@given(
    attributes=st.dictionaries(
        st.from_regex(relay_signature.ATTRIBUTE_KEY, fullmatch=True), st.text(max_size=40), max_size=4
    )
)
@settings(max_examples=200, deadline=None)
def test_attributes_survive_their_headers_and_their_signature(attributes: dict[str, str]) -> None:
    headers = relay_signature.attribute_headers(attributes)
    assert all("_" not in name and name.isascii() and value.isascii() for name, value in headers.items())
    assert relay_signature.attributes_from_headers(headers.items()) == attributes
    signed = relay_signature.sign(RELAY_SECRET, "t", "id", b"{}", attributes)
    relay_signature.verify(
        RELAY_SECRET, signed, "t", "id", b"{}", relay_signature.attributes_from_headers(headers.items())
    )
