"""The outbox on a real Postgres: same-transaction writes, leases and fenced settles, per-row backoff, the dead
letter and replay, held rows, throttling, a broker outage, two relays, the request id."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from jobs import InvalidPayload, PublishError
from jobs.dispatcher import Dispatcher
from jobs.errors import Deferred, EffectError
from jobs.outbox import (
    LATEST_VERSION,
    Attempt,
    Outbox,
    OutboxRelay,
    Outcome,
    create_outbox_table,
    downgrade_outbox_table,
    drop_outbox_table,
    enqueue,
    outbox_table,
    upgrade_outbox_table,
)
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
        create_outbox_table(Operations(MigrationContext.configure(conn)), SCHEMA, version=LATEST_VERSION)
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


@pytest.fixture()
def outbox(engine: sa.Engine, registry: JobRegistry) -> Outbox:
    return Outbox(engine, SCHEMA)


def write(engine: sa.Engine, registry: JobRegistry, *ns: int, channel: str = "default") -> list[str]:
    with engine.begin() as conn:
        return [
            enqueue(conn, "thing.happened", {"n": n}, schema=SCHEMA, registry=registry, channel=channel) for n in ns
        ]


class Recorder:
    """A sender that records what it made, and fails as told per payload."""

    def __init__(self, failures: dict[int, list[Exception]] | None = None, delay: float = 0.0):
        self.failures = failures or {}
        self.made: list[tuple[int, float]] = []
        self.pings = 0
        self.delay = delay
        self.down = False

    def send(self, attempt: Attempt) -> Outcome | None:
        n = attempt.claim.payload["n"]
        if self.delay:
            time.sleep(self.delay)
        queued = self.failures.get(n)
        if queued:
            error = queued.pop(0) if len(queued) > 1 else queued[0]
            raise error
        self.made.append((n, time.monotonic()))
        return Outcome({"made": n})

    def ping(self, channel: str) -> None:
        self.pings += 1
        if self.down:
            raise ConnectionError("down")


# --- the table --------------------------------------------------------------------------------------------
def test_the_migration_helpers_create_upgrade_and_drop_each_version(engine: sa.Engine) -> None:
    v1 = {"id", "seq", "type", "payload", "attributes", "created_at", "published_at", "attempts", "last_error"}
    v2 = (v1 - {"published_at"}) | {
        "done_at",
        "state",
        "channel",
        "next_attempt_at",
        "lease_token",
        "leased_until",
        "started_at",
        "result",
        "updated_at",
    }
    v3 = v2 | {"started_token", "ended_at"}
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA mig_test"))
        ops = Operations(MigrationContext.configure(conn))

        def columns() -> set[str]:
            return {c["name"] for c in sa.inspect(conn).get_columns("job_outbox", schema="mig_test")}

        create_outbox_table(ops, "mig_test")
        assert columns() == v1
        conn.execute(sa.text("INSERT INTO mig_test.job_outbox (type, payload, published_at) VALUES ('a', '{}', now())"))
        conn.execute(sa.text("INSERT INTO mig_test.job_outbox (type, payload) VALUES ('b', '{}')"))
        upgrade_outbox_table(ops, "mig_test", 1, 2)
        assert columns() == v2
        states = dict(conn.execute(sa.text("SELECT type, state FROM mig_test.job_outbox")).all())
        assert states == {"a": "done", "b": "pending"}
        # b's third claim began the effect and is in flight during the upgrade.
        conn.execute(sa.text("UPDATE mig_test.job_outbox SET started_at = now(), lease_token = 3 WHERE type = 'b'"))
        upgrade_outbox_table(ops, "mig_test", 2, 3)
        assert columns() == v3 == {c.name for c in outbox_table("mig_test", sa.MetaData()).columns}
        began = dict(conn.execute(sa.text("SELECT type, started_token FROM mig_test.job_outbox")).all())
        assert began == {"a": None, "b": 3}, "the claim that began under version 2 still counts when lost"
        downgrade_outbox_table(ops, "mig_test", 3, 1)
        assert columns() == v1
        drop_outbox_table(ops, "mig_test")
        assert not sa.inspect(conn).has_table("job_outbox", schema="mig_test")
        for version, wanted in ((2, v2), (3, v3)):
            create_outbox_table(ops, "mig_test", version=version)
            assert columns() == wanted
            drop_outbox_table(ops, "mig_test", version=version)
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
    ids = write(engine, registry, *range(5))

    relay = OutboxRelay(engine, SCHEMA, Dispatcher(registry, provider))
    assert relay.run_once() == 5
    assert relay.run_once() == 0
    stop = provider.start_background(Dispatcher(registry, provider).deliver)
    assert provider.join(5)
    stop.set()
    assert received == list(zip(ids, range(5), strict=True))
    assert relay.pending() == 0


# --- leases and fencing -----------------------------------------------------------------------------------
def test_a_stale_settle_changes_nothing(engine: sa.Engine, registry: JobRegistry, outbox: Outbox) -> None:
    """Worker A's lease (1 s) runs out while its send takes 2.5 s and fails; B re-claims and succeeds; A's late
    "retry later" must not put B's done row back to pending (nor A's late "done" or "dead" change it)."""
    [row_id] = write(engine, registry, 1)
    [a] = outbox.claim(lease_seconds=1.0)
    assert outbox.claim(lease_seconds=1.0) == []  # leased: nobody else takes it
    time.sleep(1.2)
    [b] = outbox.claim(lease_seconds=30.0)
    assert (b.id, b.attempts, b.token) == (a.id, 2, a.token + 1)
    assert outbox.begin_effect(a) is None  # A may not even start its call any more
    assert outbox.complete(b, {"by": "B"})
    assert outbox.retry(a, 0.0, "A's late failure") is False
    assert outbox.bury(a, "A gives up") is False
    assert outbox.complete(a, {"by": "A"}, then=lambda conn: pytest.fail("A's follow-up ran")) is False
    row = outbox.get(row_id)
    assert (row.state, row.result, row.last_error) == ("done", {"by": "B"}, None)


def test_a_worker_that_dies_mid_call_leaves_its_row_to_another_after_the_lease(
    engine: sa.Engine, registry: JobRegistry, outbox: Outbox
) -> None:
    write(engine, registry, 1)
    [dead] = outbox.claim(lease_seconds=1.0)  # long enough to begin within it on a loaded machine
    assert outbox.begin_effect(dead)  # it started the call, then died
    time.sleep(1.2)
    [taken] = outbox.claim(lease_seconds=30)
    assert taken.started_at is not None, "the next attempt knows the effect may have happened"


def test_each_call_records_when_it_ended_even_after_its_lease_ran_out(
    engine: sa.Engine, registry: JobRegistry, outbox: Outbox
) -> None:
    """A's lease runs out during its call; B claims and sees A's call begun, not ended. A's call then ends:
    recorded (not fenced), so the next claim counts from that end. Once B begins the effect itself, A's
    late end says nothing about B's call."""
    [row_id] = write(engine, registry, 1)
    [a] = outbox.claim(lease_seconds=1.0)  # long enough to begin within it on a loaded machine
    a_began = outbox.begin_effect(a)
    assert a_began is not None
    time.sleep(1.2)
    [b] = outbox.claim(lease_seconds=30)
    assert (b.started_at, b.ended_at) == (a_began, None)
    assert Attempt(b, outbox).earlier_end is None, "A may still be calling"
    assert outbox.end_effect(a)
    ended = outbox.get(row_id).ended_at
    assert ended is not None and ended >= a_began
    outbox.release([b])
    [c] = outbox.claim(lease_seconds=30)
    assert Attempt(c, outbox).earlier_end == ended
    c_began = outbox.begin_effect(c)
    assert c_began is not None and c_began > ended
    assert not outbox.end_effect(a), "A's end is not C's"
    outbox.release([c])
    [d] = outbox.claim(lease_seconds=30)
    assert d.started_at == c_began and Attempt(d, outbox).earlier_end is None


@pytest.mark.parametrize("count_lost_claims", [True, False])
def test_a_claim_lost_before_it_began_its_effect_uses_up_an_attempt_only_if_told_so(
    engine: sa.Engine, registry: JobRegistry, outbox: Outbox, count_lost_claims: bool
) -> None:
    """A stalls past its lease before beginning; B takes over. For a sender that begins every effect, A made
    no call: B is still attempt 1. A claim lost after beginning (C's) counts whatever the sender."""
    write(engine, registry, 1)
    [a] = outbox.claim(lease_seconds=0.2, count_lost_claims=count_lost_claims)
    time.sleep(0.3)
    [b] = outbox.claim(lease_seconds=1.0, count_lost_claims=count_lost_claims)
    assert outbox.begin_effect(a) is None
    assert (a.attempts, b.attempts) == (1, 2 if count_lost_claims else 1)
    assert outbox.begin_effect(b) is not None  # B calls, then dies
    time.sleep(1.2)
    [c] = outbox.claim(lease_seconds=30, count_lost_claims=count_lost_claims)
    assert c.attempts == b.attempts + 1
    assert outbox.retry(c, 0.0, "timed out")
    [d] = outbox.claim(lease_seconds=30, count_lost_claims=count_lost_claims)
    assert d.attempts == c.attempts + 1, "a settled failure always counts"


def test_the_relay_records_the_end_of_a_call_however_it_ended(
    engine: sa.Engine, registry: JobRegistry, outbox: Outbox
) -> None:
    """The sender begins the effect and raises; the end is recorded after the call, before the retry."""
    [row_id] = write(engine, registry, 1)
    seen: list[Any] = []

    class Sender:
        def send(self, attempt: Attempt) -> Outcome:
            seen.append((attempt.earlier_start, attempt.earlier_end))
            attempt.begin_effect()
            time.sleep(0.2)
            if len(seen) == 1:
                raise ConnectionError("timed out after the vendor acted")
            return Outcome({"ok": True})

    relay = OutboxRelay(outbox, sender=Sender(), backoff_initial=0.01, jitter=lambda: 1.0)
    # One try per pass: on a loaded machine the 0.01 s backoff is over before the pass's next claim.
    relay.run_pass(limit=1)
    first = outbox.get(row_id)
    assert len(seen) == 1 and first.started_at is not None and first.ended_at is not None
    assert (first.ended_at - first.started_at).total_seconds() >= 0.2
    time.sleep(0.05)
    relay.run_pass(limit=1)
    assert seen[1] == (first.started_at, first.ended_at)
    assert outbox.get(row_id).state == "done"


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
    ids = write(engine, registry, *range(200))
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


# --- per-row backoff, the dead letter, replay -------------------------------------------------------------
def test_a_poison_row_goes_to_the_dead_letter_and_never_holds_up_the_rows_behind_it(
    engine: sa.Engine, registry: JobRegistry, outbox: Outbox
) -> None:
    refused = EffectError("HTTP 400 the vendor refuses this payload", permanent=True)
    sender = Recorder({1: [refused]})
    ids = write(engine, registry, 1, 2, 3)
    relay = OutboxRelay(outbox, sender=sender, poll_interval=0.02)
    started = time.monotonic()
    report = relay.run_pass()
    assert (report.tried, report.done, report.dead) == (3, 2, 1)
    assert [n for n, _ in sender.made] == [2, 3]
    assert all(at - started < 1.0 for _, at in sender.made)
    [dead] = outbox.dead_letters()
    assert (dead.id, dead.attempts, dead.last_error) == (ids[0], 1, "HTTP 400 the vendor refuses this payload")

    # Replayed by id once the cause is fixed: fresh attempts, done.
    sender.failures.clear()
    assert outbox.replay(ids[0]) and not outbox.replay(str(uuid.uuid4())) and not outbox.replay("not-an-id")
    assert relay.run_pass().done == 1
    assert [n for n, _ in sender.made] == [2, 3, 1] and outbox.get(ids[0]).state == "done"


def test_a_row_failing_over_and_over_uses_its_attempts_then_the_dead_letter_while_the_others_flow(
    engine: sa.Engine, registry: JobRegistry, outbox: Outbox
) -> None:
    sender = Recorder({1: [EffectError("HTTP 500")]})
    ids = write(engine, registry, 1)
    relay = OutboxRelay(outbox, sender=sender, max_attempts=3, backoff_initial=0.05, backoff_max=0.1)
    for n in range(2, 6):  # rows keep arriving behind the failing one
        write(engine, registry, n)
        relay.run_pass()
        time.sleep(0.12)
    assert wait_until(lambda: relay.run_pass().tried == 0 and outbox.get(ids[0]).state == "dead", timeout=5)
    row = outbox.get(ids[0])
    assert (row.attempts, row.last_error) == (3, "HTTP 500 (attempt 3 of 3)")
    assert sorted(n for n, _ in sender.made) == [2, 3, 4, 5]


def test_each_row_keeps_its_own_backoff_and_honours_retry_after(
    engine: sa.Engine, registry: JobRegistry, outbox: Outbox
) -> None:
    busy = EffectError("HTTP 503 Retry-After: 30", retry_after=30.0)
    sender = Recorder({1: [busy, busy]})
    ids = write(engine, registry, 1, 2)
    relay = OutboxRelay(outbox, sender=sender, backoff_initial=0.05, jitter=lambda: 1.0)
    report = relay.run_pass()
    assert (report.retried, report.done) == (1, 1)
    row = outbox.get(ids[0])
    wait = (row.next_attempt_at - row.updated_at).total_seconds()
    assert 29 <= wait <= 31 and row.attempts == 1 and row.state == "pending"
    assert relay.run_pass().tried == 0  # not asked again before the time it gave


def test_a_throttled_channel_pauses_for_the_time_it_gives_without_sending_or_probing(
    engine: sa.Engine, registry: JobRegistry, outbox: Outbox
) -> None:
    """Everything answers 429 with Retry-After: 60; for 2 s the relay sends one request and probes nothing."""
    sender = Recorder({n: [EffectError("HTTP 429", throttled=True, retry_after=60.0)] for n in range(1, 6)})
    write(engine, registry, 1, 2, 3, 4, 5)
    write(engine, registry, 6, channel="other")
    calls = []
    original = sender.send
    sender.send = lambda attempt: calls.append(attempt.claim.payload["n"]) or original(attempt)
    relay = OutboxRelay(outbox, sender=sender, poll_interval=0.02, probe_interval=0.02)
    thread = threading.Thread(target=relay.run_forever, daemon=True)
    thread.start()
    time.sleep(2.0)
    relay.stop()
    thread.join(5)
    assert calls.count(1) == 1 and not {2, 3, 4, 5} & set(calls), calls
    assert calls.count(6) == 1, "another channel is not held up"
    assert sender.pings == 0
    rows = {r.payload["n"]: r for r in outbox.rows()}
    assert rows[1].attempts == 0, "a throttled attempt is not counted against the row"
    assert 58 <= (rows[1].next_attempt_at - rows[1].updated_at).total_seconds() <= 61
    assert all(rows[n].state == "pending" for n in (1, 2, 3, 4, 5))


def test_a_deferred_row_waits_uncounted(engine: sa.Engine, registry: JobRegistry, outbox: Outbox) -> None:
    sender = Recorder({1: [Deferred("the search index lags", retry_after=1.0)]})
    [row_id] = write(engine, registry, 1)
    relay = OutboxRelay(outbox, sender=sender)
    assert relay.run_pass(limit=1).done == 0
    assert outbox.get(row_id).attempts == 0
    sender.failures.clear()
    assert relay.run_pass().tried == 0
    time.sleep(1.05)
    assert relay.run_pass().done == 1


def test_held_rows_are_counted_apart_and_sent_once_their_channel_can(
    engine: sa.Engine, registry: JobRegistry, outbox: Outbox
) -> None:
    write(engine, registry, 1, 2, channel="slack")
    write(engine, registry, 3, channel="email")
    assert outbox.hold(["slack"]) == 2
    assert outbox.counts() == {"slack": {"held": 2}, "email": {"pending": 1}}
    assert set(outbox.backlog()) == {"email"}, "held rows are no backlog"
    sender = Recorder()
    relay = OutboxRelay(outbox, sender=sender)
    assert relay.run_pass().done == 1
    assert outbox.unhold(["slack"]) == 2
    assert relay.run_pass().done == 2 and sorted(n for n, _ in sender.made) == [1, 2, 3]


# --- a broker outage --------------------------------------------------------------------------------------
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
        engine, SCHEMA, Dispatcher(registry, provider), poll_interval=0.05, backoff_initial=0.05, probe_interval=0.1
    )
    try:
        write(engine, registry, 0)
        assert relay.run_once() == 1

        broker.terminate()
        broker.wait(10)
        write(engine, registry, 1, 2, 3)
        with pytest.raises(PublishError):
            relay.run_once()
        assert relay.pending() == 3

        thread = threading.Thread(target=relay.run_forever, daemon=True)
        thread.start()
        time.sleep(0.5)  # the relay probes the broker meanwhile
        assert relay.pending() == 3
        rows = [r for r in Outbox(engine, SCHEMA).rows() if r.state == "pending"]
        assert rows[0].last_error and all(r.attempts == 0 for r in rows), "an outage uses up no row's attempts"

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


def test_after_a_long_outage_publishing_resumes_within_a_probe_interval(
    engine: sa.Engine, registry: JobRegistry
) -> None:
    """The broker returns mid-wait; the relay must not sleep out a backoff step."""
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
        [row_id] = write(engine, registry, 1)
        thread.start()
        outbox = Outbox(engine, SCHEMA)
        assert wait_until(lambda: outbox.get(row_id).last_error is not None, timeout=5)
        broker = _redis_server(port)
        back = time.monotonic()
        assert wait_until(lambda: relay.pending() == 0, timeout=8)
        recovery = time.monotonic() - back
        assert recovery < 2.0, f"published {recovery:.1f}s after the broker returned"
    finally:
        relay.stop()
        thread.join(5)
        broker.terminate()
        broker.wait(10)


def test_purge_deletes_only_old_done_rows(engine: sa.Engine, registry: JobRegistry) -> None:
    t = outbox_table(SCHEMA)
    old, recent, pending = write(engine, registry, 1, 2, 3)
    with engine.begin() as conn:
        conn.execute(
            sa.update(t)
            .where(t.c.id == uuid.UUID(old))
            .values(state="done", done_at=sa.text("now() - interval '8 days'"))
        )
        conn.execute(sa.update(t).where(t.c.id == uuid.UUID(recent)).values(state="done", done_at=sa.func.now()))

    relay = OutboxRelay(engine, SCHEMA, Dispatcher(registry, InProcessProvider()))
    assert relay.purge() == 1
    with engine.connect() as conn:
        assert sorted(str(i) for i in conn.execute(sa.select(t.c.id)).scalars()) == sorted([recent, pending])


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


def test_the_command_line_lists_and_replays_the_dead_letter(
    engine: sa.Engine, registry: JobRegistry, outbox: Outbox, capsys: pytest.CaptureFixture
) -> None:
    from jobs.outbox.__main__ import main

    [row_id] = write(engine, registry, 7)
    [claim] = outbox.claim()
    outbox.bury(claim, "HTTP 400 refused")
    url = engine.url.render_as_string(hide_password=False)
    assert main(["--schema", SCHEMA, "--database-url", url, "dead"]) == 0
    assert row_id in capsys.readouterr().out
    assert main(["--schema", SCHEMA, "--database-url", url, "replay", row_id]) == 0
    assert outbox.get(row_id).state == "pending"
    assert main(["--schema", SCHEMA, "--database-url", url, "replay", str(uuid.uuid4())]) == 1
