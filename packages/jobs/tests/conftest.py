"""Fixtures of the jobs tests: the in-test Pub/Sub, QStash and Trigger.dev servers, and one harness per provider."""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

# The helpers next to this file have names of their own (jobs_*), so that they cannot clash with other
# test folders of the one pytest run.
sys.path.insert(0, str(Path(__file__).parent))

from jobs.dispatcher import Dispatcher  # noqa: E402
from jobs_fake_pubsub import FakePubSub  # noqa: E402
from jobs_fake_qstash import FakeQStash  # noqa: E402
from jobs_fake_trigger import FakeTriggerDev  # noqa: E402
from jobs_support import MAX_ATTEMPTS, RELAY_SECRET, RETRY_DELAY, Harness  # noqa: E402


@pytest.fixture(scope="session")
def pubsub_server() -> Iterator[FakePubSub]:
    fake = FakePubSub()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def qstash_server() -> Iterator[FakeQStash]:
    fake = FakeQStash().start()
    yield fake
    fake.stop()


@pytest.fixture()
def trigger_server() -> Iterator[FakeTriggerDev]:
    # One per test: runs still retrying from an earlier test must not reach this test's receiver.
    fake = FakeTriggerDev().start()
    yield fake
    fake.stop()


def _inprocess(request: pytest.FixtureRequest) -> Harness:
    from jobs.providers.inprocess import InProcessProvider

    return Harness("inprocess", InProcessProvider(max_attempts=MAX_ATTEMPTS, retry_delay_seconds=RETRY_DELAY))


def _redis(request: pytest.FixtureRequest) -> Harness:
    from jobs.providers.redis_streams import RedisStreamsProvider

    url = request.getfixturevalue("redis_url")
    provider = RedisStreamsProvider.from_url(
        url,
        prefix=f"t{uuid.uuid4().hex[:8]}",
        max_attempts=MAX_ATTEMPTS,
        retry_delay_seconds=RETRY_DELAY,
        claim_idle_seconds=1.0,
        block_seconds=0.2,
    )
    return Harness("redis", provider)


def _pubsub(request: pytest.FixtureRequest) -> Harness:
    from jobs.providers.pubsub import PubSubProvider

    fake: FakePubSub = request.getfixturevalue("pubsub_server")
    # Through the environment, as in a deployment; monkeypatch restores it after the test.
    request.getfixturevalue("monkeypatch").setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{fake.port}")
    provider = PubSubProvider(
        f"p{uuid.uuid4().hex[:8]}", max_attempts=MAX_ATTEMPTS, retry_delay_seconds=RETRY_DELAY, concurrency=4
    )
    return Harness("pubsub", provider)


def _qstash(request: pytest.FixtureRequest) -> Harness:
    from jobs.providers.qstash import QStashProvider
    from jobs.push import QStashVerifier, push_blueprint

    fake: FakeQStash = request.getfixturevalue("qstash_server")
    app = Flask("receiver")
    holder: dict[str, Dispatcher] = {}

    # The receiving app must exist (its port is the push URL) before the provider; its blueprint is
    # mounted once the harness' dispatcher exists.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    provider = QStashProvider(fake.token, base_url, RELAY_SECRET, qstash_url=fake.url, max_attempts=MAX_ATTEMPTS)

    def start_push(dispatcher: Dispatcher) -> Callable[[], None]:
        holder["d"] = dispatcher
        app.register_blueprint(
            push_blueprint(dispatcher, QStashVerifier(fake.current_key, fake.next_key, RELAY_SECRET))
        )
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        return server.shutdown

    return Harness("qstash", provider, start_push=start_push)


def _trigger(request: pytest.FixtureRequest) -> Harness:
    from jobs.providers.trigger import TriggerDevProvider
    from jobs.push import TriggerRelayVerifier, push_blueprint
    from jobs_trigger_relay import relay_executor

    fake: FakeTriggerDev = request.getfixturevalue("trigger_server")
    app = Flask("receiver")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    provider = TriggerDevProvider(fake.secret_key, base_url, api_url=fake.url, max_attempts=MAX_ATTEMPTS)
    fake.executor = relay_executor(RELAY_SECRET)

    def start_push(dispatcher: Dispatcher) -> Callable[[], None]:
        app.register_blueprint(push_blueprint(dispatcher, TriggerRelayVerifier(RELAY_SECRET)))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        return server.shutdown

    return Harness("trigger", provider, start_push=start_push)


HARNESSES = {"inprocess": _inprocess, "redis": _redis, "pubsub": _pubsub, "qstash": _qstash, "trigger": _trigger}


@pytest.fixture(params=list(HARNESSES))
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    h = HARNESSES[request.param](request)
    yield h
    h.stop()
    h.provider.close()
