"""The outbox on a real Postgres: same-transaction writes, the relay, a broker outage, two relays."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from jobs import InvalidPayload, PublishError
from jobs.dispatcher import Dispatcher
from jobs.outbox import OutboxRelay, create_outbox_table, drop_outbox_table, enqueue, outbox_table
from jobs.providers.inprocess import InProcessProvider
from jobs.providers.redis_streams import RedisStreamsProvider
from jobs.registry import JobRegistry
from jobs_support import wait_until
from pydantic import BaseModel
from testkit.servers import free_port, wait_for_port

pytestmark = pytest.mark.integration
SCHEMA = "outbox_test"


class Event(BaseModel):
    n: int


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    name = f"jobs_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_url).set(database=name)
    eng = sa.create_engine(url, pool_size=10)
    with eng.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        create_outbox_table(Operations(MigrationContext.configure(conn)), SCHEMA)
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture()
def registry(engine: sa.Engine) -> JobRegistry:
    with engine.begin() as conn:
        conn.execute(sa.delete(outbox_table(SCHEMA)))
    reg = JobRegistry()
    reg.register("thing.happened", Event)
    return reg


def test_migration_helpers_create_and_drop_the_table(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA mig_test"))
        ops = Operations(MigrationContext.configure(conn))
        create_outbox_table(ops, "mig_test")
        columns = {c["name"] for c in sa.inspect(conn).get_columns("job_outbox", schema="mig_test")}
        assert columns == {
            "id",
            "seq",
            "type",
            "payload",
            "attributes",
            "created_at",
            "published_at",
            "attempts",
            "last_error",
        }
        drop_outbox_table(ops, "mig_test")
        assert not sa.inspect(conn).has_table("job_outbox", schema="mig_test")
        conn.execute(sa.text("DROP SCHEMA mig_test"))


def test_enqueue_is_part_of_the_callers_transaction(engine: sa.Engine, registry: JobRegistry) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        enqueue(conn, "thing.happened", {"n": 1}, schema=SCHEMA, registry=registry)
        raise RuntimeError("the change failed")
    with engine.begin() as conn:
        job_id = enqueue(conn, "thing.happened", {"n": 2}, schema=SCHEMA, registry=registry)
        with pytest.raises(InvalidPayload):
            enqueue(conn, "thing.happened", {"n": "not a number"}, schema=SCHEMA, registry=registry)

    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_table(SCHEMA).c.id, outbox_table(SCHEMA).c.payload)).all()
    assert [(str(r.id), r.payload) for r in rows] == [(job_id, {"n": 2})]


def test_relay_publishes_committed_rows_in_order_with_the_row_id_as_job_id(
    engine: sa.Engine, registry: JobRegistry
) -> None:
    provider = InProcessProvider()
    received = []
    registry.register("thing.happened", Event, lambda e, ctx: received.append((ctx.id, e.n)))
    with engine.begin() as conn:
        ids = [enqueue(conn, "thing.happened", {"n": i}, schema=SCHEMA, registry=registry) for i in range(5)]

    relay = OutboxRelay(engine, SCHEMA, Dispatcher(registry, provider))
    assert relay.run_once() == 5
    assert relay.run_once() == 0
    stop = provider.start_background(Dispatcher(registry, provider).deliver)
    assert provider.join(5)
    stop.set()
    assert received == list(zip(ids, range(5), strict=True))
    assert relay.pending() == 0


def _redis_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, 10, proc)
    return proc


def test_broker_outage_loses_nothing_and_publishes_once_it_is_back(engine: sa.Engine, registry: JobRegistry) -> None:
    port = free_port()
    broker = _redis_server(port)
    provider = RedisStreamsProvider.from_url(f"redis://127.0.0.1:{port}/0", prefix="outage")
    provider.client.connection_pool.connection_kwargs["socket_connect_timeout"] = 0.5
    relay = OutboxRelay(
        engine, SCHEMA, Dispatcher(registry, provider), poll_interval=0.05, backoff_initial=0.05, backoff_max=0.2
    )
    try:
        with engine.begin() as conn:
            enqueue(conn, "thing.happened", {"n": 0}, schema=SCHEMA, registry=registry)
        assert relay.run_once() == 1

        broker.terminate()
        broker.wait(10)
        with engine.begin() as conn:
            for i in range(1, 4):
                enqueue(conn, "thing.happened", {"n": i}, schema=SCHEMA, registry=registry)
        with pytest.raises(PublishError):
            relay.run_once()
        assert relay.pending() == 3

        thread = threading.Thread(target=relay.run_forever, daemon=True)
        thread.start()
        time.sleep(0.5)  # the relay keeps failing and backing off meanwhile
        assert relay.pending() == 3
        with engine.connect() as conn:
            attempts = conn.execute(sa.select(sa.func.max(outbox_table(SCHEMA).c.attempts))).scalar_one()
        assert attempts >= 2

        broker = _redis_server(port)  # a fresh, empty broker on the same address
        assert wait_until(lambda: relay.pending() == 0, timeout=10)
        relay.stop()
        thread.join(5)
        entries = provider.client.xrange(provider.stream("thing.happened"))
        assert [e[1]["payload"] for e in entries] == ['{"n":1}', '{"n":2}', '{"n":3}']
    finally:
        relay.stop()
        broker.terminate()
        broker.wait(10)


def test_two_relays_publish_every_row_exactly_once(engine: sa.Engine, registry: JobRegistry) -> None:
    provider = InProcessProvider()
    published: list[str] = []
    lock = threading.Lock()
    original = provider.publish

    def slow_publish(job):  # slow enough that both relays are busy at the same time
        time.sleep(0.002)
        with lock:
            published.append(job.id)
        original(job)

    provider.publish = slow_publish
    with engine.begin() as conn:
        ids = [enqueue(conn, "thing.happened", {"n": i}, schema=SCHEMA, registry=registry) for i in range(200)]
    relays = [
        OutboxRelay(engine, SCHEMA, Dispatcher(registry, provider), batch_size=20, poll_interval=0.01) for _ in range(2)
    ]
    threads = [threading.Thread(target=r.run_forever, daemon=True) for r in relays]
    for t in threads:
        t.start()
    assert wait_until(lambda: relays[0].pending() == 0, timeout=20)
    for r in relays:
        r.stop()
    for t in threads:
        t.join(5)

    assert sorted(published) == sorted(ids)
    assert len(published) == len(set(published))


def test_purge_deletes_only_old_published_rows(engine: sa.Engine, registry: JobRegistry) -> None:
    t = outbox_table(SCHEMA)
    with engine.begin() as conn:
        old = enqueue(conn, "thing.happened", {"n": 1}, schema=SCHEMA, registry=registry)
        recent = enqueue(conn, "thing.happened", {"n": 2}, schema=SCHEMA, registry=registry)
        pending = enqueue(conn, "thing.happened", {"n": 3}, schema=SCHEMA, registry=registry)
        conn.execute(
            sa.update(t).where(t.c.id == uuid.UUID(old)).values(published_at=sa.text("now() - interval '8 days'"))
        )
        conn.execute(sa.update(t).where(t.c.id == uuid.UUID(recent)).values(published_at=sa.func.now()))

    relay = OutboxRelay(engine, SCHEMA, Dispatcher(registry, InProcessProvider()))
    assert relay.purge() == 1
    with engine.connect() as conn:
        assert sorted(str(i) for i in conn.execute(sa.select(t.c.id)).scalars()) == sorted([recent, pending])


def test_after_a_long_outage_publishing_resumes_within_a_probe_interval(
    engine: sa.Engine, registry: JobRegistry
) -> None:
    """The backoff has grown to its cap; the broker returns mid-wait; the relay must not sleep the cap out."""
    port = free_port()
    broker = _redis_server(port)
    provider = RedisStreamsProvider.from_url(f"redis://127.0.0.1:{port}/0", prefix="probe")
    provider.client.connection_pool.connection_kwargs["socket_connect_timeout"] = 0.5
    relay = OutboxRelay(
        engine, SCHEMA, Dispatcher(registry, provider), poll_interval=0.05, backoff_initial=8.0, probe_interval=0.2
    )
    thread = threading.Thread(target=relay.run_forever, daemon=True)
    try:
        broker.terminate()
        broker.wait(10)
        with engine.begin() as conn:
            enqueue(conn, "thing.happened", {"n": 1}, schema=SCHEMA, registry=registry)
        thread.start()
        with engine.connect() as conn:
            assert wait_until(
                lambda: conn.execute(sa.select(sa.func.max(outbox_table(SCHEMA).c.attempts))).scalar_one() >= 1,
                timeout=5,
            )
        broker = _redis_server(port)
        back = time.monotonic()
        assert wait_until(lambda: relay.pending() == 0, timeout=8)
        recovery = time.monotonic() - back
        # An 8 s backoff step was under way; the probe ends it within about one probe interval.
        assert recovery < 2.0, f"published {recovery:.1f}s after the broker returned"
    finally:
        relay.stop()
        thread.join(5)
        broker.terminate()
        broker.wait(10)


def test_a_row_carries_the_request_id_through_the_relay_to_the_handler(
    engine: sa.Engine, registry: JobRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    from servicekit.logs import current_request_id, request_id_context

    provider = InProcessProvider()
    seen: list[tuple[str | None, str | None]] = []
    registry.register(
        "thing.happened", Event, lambda e, ctx: seen.append((ctx.attributes.get("request_id"), current_request_id()))
    )
    with engine.begin() as conn:
        with request_id_context("req-outbox-1"):
            caused = enqueue(conn, "thing.happened", {"n": 1}, schema=SCHEMA, registry=registry)
        enqueue(conn, "thing.happened", {"n": 2}, schema=SCHEMA, registry=registry)
    with engine.connect() as conn:
        t = outbox_table(SCHEMA)
        attributes = dict(conn.execute(sa.select(t.c.id, t.c.attributes).order_by(t.c.seq)).all())
    assert list(attributes.values()) == [{"request_id": "req-outbox-1"}, {}]

    caplog.set_level("INFO", logger="jobs")
    assert OutboxRelay(engine, SCHEMA, Dispatcher(registry, provider)).run_once() == 2
    published = {r.job_id: r.request_id for r in caplog.records if r.getMessage() == "job published"}
    assert published == {caused: "req-outbox-1", **{k: None for k in published if k != caused}}
    stop = provider.start_background(Dispatcher(registry, provider).deliver)
    assert provider.join(5)
    stop.set()
    # The handler of the first runs in that request's context; the second has none.
    assert seen == [("req-outbox-1", "req-outbox-1"), (None, None)]
