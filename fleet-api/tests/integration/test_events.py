"""Events: written with the change, published by the relay, recorded once by the audit-worker."""

from __future__ import annotations

import threading
import time

import jobs
import pytest
from jobs.providers.inprocess import InProcessProvider

from ..conftest import unique

pytestmark = pytest.mark.integration


class RecordingProvider(jobs.JobProvider):
    """The bus, mocked: keeps what it is given; can be told to refuse."""

    name = "recording"

    def __init__(self):
        self.published: list[jobs.Job] = []
        self.down = False

    def publish(self, job):
        if self.down:
            raise ConnectionError("bus unreachable")
        self.published.append(job)

    def ping(self):
        if self.down:
            raise ConnectionError("bus unreachable")

    def consume(self, job_types, deliver, stop):
        raise NotImplementedError


def _assign_and_complete(client, auth):
    driver = client.post("/drivers", json={"name": "Ann", "licenseNumber": unique("L")}, headers=auth).get_json()
    load = client.post(
        "/loads", json={"origin": "Austin", "destination": "Dallas", "cargoType": "steel"}, headers=auth
    ).get_json()
    assignment = client.post(
        "/assignments", json={"driverId": driver["id"], "loadId": load["id"]}, headers=auth
    ).get_json()
    client.patch(f"/assignments/{assignment['id']}/status", json={"status": "COMPLETED"}, headers=auth)
    return driver, load, assignment


def _relay(settings, provider):
    from fleet_api.relay import build_relay

    registry = jobs.JobRegistry()
    from fleet_api.domain.events import EVENT_TYPES, LoadEventMessage

    for event_type in EVENT_TYPES:
        registry.register(event_type, LoadEventMessage)
    return build_relay(settings, jobs.Dispatcher(registry, provider), poll_interval=0.05, backoff_initial=0.05)


def test_the_relay_publishes_committed_events_in_order_once(client, auth, settings):
    driver, load, assignment = _assign_and_complete(client, auth)
    bus = RecordingProvider()
    relay = _relay(settings, bus)
    assert relay.run_once() == 2
    assert relay.run_once() == 0  # published rows are not sent again
    assert [j.type for j in bus.published] == ["load.assigned", "load.completed"]
    first = bus.published[0].payload
    assert first["driver_id"] == driver["id"] and first["load_id"] == load["id"]
    assert first["assignment_id"] == assignment["id"] and first["driver"]["name"] == "Ann"


def test_nothing_is_lost_while_the_bus_is_down(client, auth, settings):
    _assign_and_complete(client, auth)
    bus = RecordingProvider()
    bus.down = True
    relay = _relay(settings, bus)
    with pytest.raises(jobs.PublishError):
        relay.run_once()
    assert relay.pending() == 2 and bus.published == []
    bus.down = False
    assert relay.run_once() == 2 and relay.pending() == 0


def _sample(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_relay_measures_the_backlog_even_while_the_bus_is_down(client, auth, settings):
    _assign_and_complete(client, auth)
    published = _sample("fleet_outbox_published_events_total")
    bus = RecordingProvider()
    bus.down = True
    relay = _relay(settings, bus)
    with pytest.raises(jobs.PublishError):
        relay.run_once()
    assert _sample("fleet_outbox_pending_events") == relay.pending() >= 2
    bus.down = False
    while relay.run_once():
        pass
    assert _sample("fleet_outbox_pending_events") == 0
    assert _sample("fleet_outbox_published_events_total") - published >= 2


def test_a_refused_assignment_writes_no_event(client, auth, settings):
    driver = client.post("/drivers", json={"name": "Ann", "licenseNumber": unique("L")}, headers=auth).get_json()
    loads = [
        client.post("/loads", json={"origin": "A", "destination": "B", "cargoType": "c"}, headers=auth).get_json()
        for _ in range(2)
    ]
    busy = _sample("fleet_rule_conflicts_total", rule="driver_busy")
    for load in loads:
        client.post("/assignments", json={"driverId": driver["id"], "loadId": load["id"]}, headers=auth)
    bus = RecordingProvider()
    _relay(settings, bus).run_once()
    assert [j.type for j in bus.published] == ["load.assigned"]
    assert _sample("fleet_rule_conflicts_total", rule="driver_busy") - busy == 1


def _audit_app(provider, store):
    from audit_worker import create_app as create_audit_app
    from audit_worker.settings import Settings as AuditSettings
    from audit_worker.wiring import build_dependencies

    from ..conftest import JWT_SECRET

    settings = AuditSettings(jwt_secret=JWT_SECRET)
    dispatcher = jobs.Dispatcher(jobs.JobRegistry(), provider)
    return create_audit_app(settings, build_dependencies(settings, store=store, dispatcher=dispatcher))


def _stop_audit(app) -> None:
    from servicekit import close_app

    close_app(app)


def _trail(store, **filters) -> list[dict]:
    """The audit store's documents, read through a unit of work as audit-worker reads them."""
    with store.unit_of_work() as uow:
        return uow.events.find(**filters)


def _wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("bus", ["inprocess", "redis"])
def test_assignment_to_audit_trail_end_to_end(client, auth, settings, bus, redis_url):
    from audit_worker.adapters.memory_store import MemoryAuditStore
    from jobs.providers.redis_streams import RedisStreamsProvider

    if bus == "redis":
        prefix = unique("jobs")
        provider = RedisStreamsProvider.from_url(redis_url, prefix=prefix, block_seconds=0.1)
        consumer_side = RedisStreamsProvider.from_url(redis_url, prefix=prefix, block_seconds=0.1)
    else:
        provider = consumer_side = InProcessProvider()
    store = MemoryAuditStore()
    audit = _audit_app(consumer_side, store)
    try:
        driver, load, assignment = _assign_and_complete(client, auth)
        relay = _relay(settings, provider)
        relay.run_once()
        relay.run_once()
        trail = audit.test_client()
        assert _wait_for(lambda: len(_trail(store, load_id=load["id"])) == 2)
        response = trail.get(f"/audit-events?loadId={load['id']}", headers=auth)
        assert response.status_code == 200
        items = response.get_json()["items"]
        assert [i["type"] for i in items] == ["load.assigned", "load.completed"]
        assert {i["driverId"] for i in items} == {driver["id"]}
        assert items[0]["payload"]["assignmentId"] == assignment["id"]

        # Redelivery (a relay that died after publishing, before marking): same ids, no new documents.
        for job in list(_published_again(relay, provider)):
            provider.publish(job)
        time.sleep(0.5)
        assert len(_trail(store, load_id=load["id"])) == 2
    finally:
        _stop_audit(audit)


def _published_again(relay, provider):
    import sqlalchemy as sa

    table = relay.outbox.table
    with relay.outbox.engine.connect() as conn:
        for row in conn.execute(sa.select(table.c.id, table.c.type, table.c.payload).order_by(table.c.seq)):
            yield jobs.Job(type=row.type, payload=row.payload, id=str(row.id))


def test_the_relay_process_runs_until_stopped(client, auth, settings):
    _assign_and_complete(client, auth)
    bus = RecordingProvider()
    relay = _relay(settings, bus)
    thread = threading.Thread(target=relay.run_forever, daemon=True)
    thread.start()
    assert _wait_for(lambda: len(bus.published) == 2)
    relay.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_a_bus_outage_loses_and_duplicates_nothing(client, auth, settings):
    """R2: Redis (the bus) goes away mid-flow and comes back empty; every event ends up audited once."""
    import subprocess

    from audit_worker.adapters.memory_store import MemoryAuditStore
    from jobs.providers.redis_streams import RedisStreamsProvider
    from testkit.servers import free_port, wait_for_port

    port = free_port()

    def start_bus():
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(port, 10, proc)
        return proc

    bus = start_bus()
    url = f"redis://127.0.0.1:{port}/0"
    publisher = RedisStreamsProvider.from_url(url, block_seconds=0.1)
    store = MemoryAuditStore()
    audit = _audit_app(RedisStreamsProvider.from_url(url, block_seconds=0.1), store)
    relay = _relay(settings, publisher)
    try:
        first = _assign_and_complete(client, auth)
        relay.run_once()
        assert _wait_for(lambda: len(_trail(store)) == 2)

        bus.terminate()
        bus.wait(10)
        second = _assign_and_complete(client, auth)  # the API keeps working; events wait in the outbox
        with pytest.raises(jobs.PublishError):
            relay.run_once()
        assert relay.pending() == 2

        bus = start_bus()
        assert _wait_for(lambda: _try_publish(relay) and relay.pending() == 0)
        third = _assign_and_complete(client, auth)
        relay.run_once()
        assert _wait_for(lambda: len(_trail(store)) == 6, timeout=30)
        for _, load, _ in (first, second, third):
            assert [d["type"] for d in _trail(store, load_id=load["id"])] == ["load.assigned", "load.completed"]
        assert len({d["eventId"] for d in _trail(store)}) == 6
    finally:
        _stop_audit(audit)
        bus.terminate()
        bus.wait(10)


def _try_publish(relay) -> bool:
    try:
        relay.run_once()
    except jobs.PublishError:
        return False
    return True


def test_an_event_taken_by_a_killed_consumer_is_audited_by_another(client, auth, settings, redis_url):
    """R2: a consumer that read an event and died before acknowledging it loses nothing: the event is
    claimed by a live consumer once idle, and recorded once."""
    import redis
    from audit_worker.adapters.memory_store import MemoryAuditStore
    from jobs.providers.redis_streams import RedisStreamsProvider

    prefix = unique("jobs")
    publisher = RedisStreamsProvider.from_url(redis_url, prefix=prefix)
    publisher.provision(["load.assigned", "load.completed", "load.cancelled"])
    _, load, _ = _assign_and_complete(client, auth)
    _relay(settings, publisher).run_once()

    # The dead worker: it took both events from the group and never acknowledged them.
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    taken = raw.xreadgroup(
        publisher.group, "killed-worker", {f"{prefix}:load.assigned": ">", f"{prefix}:load.completed": ">"}, count=10
    )
    assert sum(len(entries) for _, entries in taken) == 2

    store = MemoryAuditStore()
    survivor = RedisStreamsProvider.from_url(redis_url, prefix=prefix, block_seconds=0.1, claim_idle_seconds=0.5)
    audit = _audit_app(survivor, store)
    try:
        assert _wait_for(lambda: len(_trail(store, load_id=load["id"])) == 2, timeout=20)
        time.sleep(1.0)  # a second reclaim round must not record them again
        assert [d["type"] for d in _trail(store, load_id=load["id"])] == ["load.assigned", "load.completed"]
    finally:
        _stop_audit(audit)
