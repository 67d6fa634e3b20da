"""The bus's outside effects under every fault: the outbox relay publishing through Trigger.dev and QStash while
their fakes time out after acting, answer 429 with Retry-After, answer a 5xx, lag their listings, or refuse one
payload for good. For each fault, asking the fake what it received: every job made exactly one run / one
message and reached its handler once, or (the refused one) sits in the dead letter with its error; and the
poison row at the head of the outbox never held up the rows written after it.

Also the issue's rate-limit case: everything answering 429 with Retry-After: 60, the relay sends one trigger
request and no probe until that minute is over."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from jobs.outbox import LATEST_VERSION, Outbox, OutboxRelay, create_outbox_table, enqueue
from jobs_support import Harness, wait_until
from pydantic import BaseModel
from testkit.faults import KINDS, Faults

pytestmark = pytest.mark.integration
SCHEMA = "bus_faults"
POISON = 13
CLIENT_TIMEOUT = 0.3


class Thing(BaseModel):
    n: int


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    name = f"faults_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    eng = sa.create_engine(sa.make_url(postgres_url).set(database=name))
    with eng.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        create_outbox_table(Operations(MigrationContext.configure(conn)), SCHEMA, version=LATEST_VERSION)
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture()
def outbox(engine: sa.Engine) -> Outbox:
    with engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {SCHEMA}.job_outbox"))  # noqa: S608 - the module's constant
    return Outbox(engine, SCHEMA)


def _fake(harness: Harness, request: pytest.FixtureRequest):
    return request.getfixturevalue("trigger_server" if harness.name == "trigger" else "qstash_server")


def _refuses(harness: Harness):
    if harness.name == "trigger":
        return lambda relayed: isinstance(relayed, dict) and (relayed.get("payload") or {}).get("n") == POISON
    return lambda body: f'"n":{POISON}'.encode() in body


def _short_timeouts(harness: Harness) -> None:
    if harness.name == "trigger":
        harness.provider.http.timeout = CLIENT_TIMEOUT
    else:
        harness.provider.client.http._client.timeout = httpx.Timeout(CLIENT_TIMEOUT)


def _received(harness: Harness, fake, job_id: str) -> int:
    """How many runs / messages the fake made for this job (what reached the vendor, not what we sent)."""
    if harness.name == "trigger":
        return len(fake.runs_for(job_id))
    return sum(1 for m in fake.published if m.headers.get("X-Job-Id") == job_id)


@pytest.mark.parametrize("fault", KINDS)
@pytest.mark.parametrize("harness", ["trigger", "qstash"], indirect=True)
def test_every_bus_job_through_every_fault_happens_once_or_is_dead_lettered(
    harness: Harness, fault: str, engine: sa.Engine, outbox: Outbox, request: pytest.FixtureRequest
) -> None:
    fake = _fake(harness, request)
    fake.faults = Faults.of(fault, refuse=_refuses(harness), stall_seconds=CLIENT_TIMEOUT * 3, index_lag=0.3)
    request.addfinalizer(lambda: setattr(fake, "faults", Faults()))
    _short_timeouts(harness)
    handled: list[str] = []
    harness.registry.register("thing.happened", Thing, lambda thing, ctx: handled.append(ctx.id))
    harness.start()

    numbers = [POISON, 1, 2, 3] if fault == "refuse_payload" else [1, 2, 3]
    with engine.begin() as conn:
        ids = {n: enqueue(conn, "thing.happened", {"n": n}, schema=SCHEMA, registry=harness.registry) for n in numbers}
    relay = OutboxRelay(
        outbox,
        dispatcher=harness.dispatcher,
        max_attempts=3,
        backoff_initial=0.05,
        backoff_max=0.2,
        poll_interval=0.02,
        probe_interval=0.05,
    )
    started = time.monotonic()
    thread = threading.Thread(target=relay.run_forever, daemon=True)
    thread.start()
    try:
        good = [ids[n] for n in numbers if n != POISON]
        settled = wait_until(lambda: all(outbox.get(i).state in ("done", "dead") for i in ids.values()), timeout=20)
        assert settled, [(r.payload, r.state, r.last_error) for r in outbox.rows()]
        published_in = time.monotonic() - started
        assert wait_until(lambda: sorted(handled) == sorted(good), timeout=15), (handled, good)
    finally:
        relay.stop()
        thread.join(5)

    for job_id in good:
        assert outbox.get(job_id).state == "done"
        assert _received(harness, fake, job_id) == 1, f"{fault}: {job_id} reached {harness.name} more than once"
    assert len(handled) == len(set(handled)), "a handler ran twice"
    if fault == "refuse_payload":
        [dead] = outbox.dead_letters()
        assert dead.id == ids[POISON] and dead.last_error and ("400" in dead.last_error or "422" in dead.last_error)
        assert _received(harness, fake, ids[POISON]) == 0
        # The poison row was first in line; the rows behind it went out at once, not after its retries.
        assert published_in < 3.0, f"the rows behind the poison row took {published_in:.1f}s"
    else:
        assert outbox.dead_letters() == []


@pytest.mark.parametrize("harness", ["trigger"], indirect=True)
def test_a_rate_limit_of_a_minute_is_waited_out_without_a_request_or_a_probe(
    harness: Harness, trigger_server, engine: sa.Engine, outbox: Outbox
) -> None:
    trigger_server.faults = Faults(rate_limited=1000, retry_after=60)
    harness.registry.register("thing.happened", Thing)
    with engine.begin() as conn:
        for n in range(3):
            enqueue(conn, "thing.happened", {"n": n}, schema=SCHEMA, registry=harness.registry)
    relay = OutboxRelay(outbox, dispatcher=harness.dispatcher, poll_interval=0.02, probe_interval=0.02)
    thread = threading.Thread(target=relay.run_forever, daemon=True)
    thread.start()
    try:
        time.sleep(3.0)
    finally:
        relay.stop()
        thread.join(5)
    triggers = trigger_server.calls("/api/v1/tasks/")
    probes = trigger_server.calls("/api/v1/runs")
    assert (len(triggers), len(probes)) == (1, 0), (triggers, probes)
    rows = outbox.rows()
    assert all(r.state == "pending" and r.attempts == 0 for r in rows), [
        (r.state, r.attempts, r.last_error) for r in rows
    ]
    assert 55 <= (rows[0].next_attempt_at - rows[0].updated_at).total_seconds() <= 61
