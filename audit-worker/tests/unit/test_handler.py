"""The consumer's logic with the bus mocked: deliveries are handed to the dispatcher by hand."""

from __future__ import annotations

import json
import uuid

import jobs
import pytest
from audit_worker.background.event_consumer import AuditHandler
from audit_worker.domain.audit import EVENT_TYPES

from ..conftest import fleet_event, trail


class FakeNotifier:
    def __init__(self, failures: int = 0):
        self.sent: list[tuple] = []
        self.failures = failures

    def notify(self, event_type, driver_id, load_id, subject, body, request_id=None):
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("smtp down")
        self.sent.append((event_type, driver_id, load_id, subject, body))


class MockBus(jobs.JobProvider):
    name = "mock"

    def publish(self, job):
        raise NotImplementedError

    def consume(self, job_types, deliver, stop):
        raise NotImplementedError


def _dispatcher(store, notifier):
    dispatcher = jobs.Dispatcher(jobs.JobRegistry(), MockBus())
    AuditHandler(store.unit_of_work, notifier).register(dispatcher.registry)
    return dispatcher


def test_one_document_per_event_with_the_documented_fields(store):
    notifier = FakeNotifier()
    dispatcher = _dispatcher(store, notifier)
    event = fleet_event()
    event_id = str(uuid.uuid4())
    dispatcher.deliver(jobs.Job(type="load.assigned", payload=event, id=event_id))
    [document] = trail(store, load_id=event["load_id"])
    assert document["eventId"] == event_id and document["type"] == "load.assigned"
    assert document["driverId"] == event["driver_id"] and document["loadId"] == event["load_id"]
    assert document["payload"]["load"]["origin"] == "Austin"
    # Stored in the API's field style, as GET /audit-events answers it.
    assert document["payload"]["assignmentId"] == event["assignment_id"]
    assert document["payload"]["load"]["cargoType"] == "steel"
    assert document["occurredAt"] and document["recordedAt"] and document["notifiedAt"]
    assert len(notifier.sent) == 1 and "Austin -> Dallas" in notifier.sent[0][3]


def test_the_document_and_the_log_line_carry_the_request_id_of_the_event(store):
    import logging

    from servicekit.logs import JsonFormatter

    class Lines(logging.Handler):
        """Formats when the line is written, as the service's own handlers do."""

        def __init__(self):
            super().__init__()
            self.setFormatter(JsonFormatter("audit-worker"))
            self.lines: list[dict] = []

        def emit(self, record):
            self.lines.append(json.loads(self.format(record)))

    dispatcher = _dispatcher(store, FakeNotifier())
    caused, plain = fleet_event(), fleet_event()
    logger, handler = logging.getLogger("audit_worker.consumer"), Lines()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel("INFO")
    try:
        dispatcher.deliver(
            jobs.Job(
                type="load.assigned", payload=caused, id=str(uuid.uuid4()), attributes={"request_id": "req-fleet-9"}
            )
        )
        dispatcher.deliver(jobs.Job(type="load.assigned", payload=plain, id=str(uuid.uuid4())))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert trail(store, load_id=caused["load_id"])[0]["requestId"] == "req-fleet-9"
    assert trail(store, load_id=plain["load_id"])[0]["requestId"] is None
    assert [(line["message"], line.get("request_id"), line["load_id"]) for line in handler.lines] == [
        ("audit event recorded", "req-fleet-9", caused["load_id"]),
        ("audit event recorded", None, plain["load_id"]),
    ]


def test_redelivery_is_idempotent_on_the_event_id(store):
    notifier = FakeNotifier()
    dispatcher = _dispatcher(store, notifier)
    event = fleet_event()
    job = jobs.Job(type="load.assigned", payload=event, id=str(uuid.uuid4()))
    for attempt in (1, 2, 3):
        dispatcher.deliver(jobs.Job(type=job.type, payload=job.payload, id=job.id, attempt=attempt))
    assert len(trail(store, load_id=event["load_id"])) == 1
    assert len(notifier.sent) == 1


def test_a_failed_notification_is_retried_without_a_second_document(store):
    notifier = FakeNotifier(failures=1)
    dispatcher = _dispatcher(store, notifier)
    event = fleet_event("load.completed")
    job = jobs.Job(type="load.completed", payload=event, id=str(uuid.uuid4()))
    with pytest.raises(ConnectionRefusedError):
        dispatcher.deliver(job)  # the provider would redeliver
    dispatcher.deliver(jobs.Job(type=job.type, payload=job.payload, id=job.id, attempt=2))
    assert len(trail(store, load_id=event["load_id"])) == 1 and len(notifier.sent) == 1


def test_a_malformed_event_is_refused_as_permanent(store):
    dispatcher = _dispatcher(store, FakeNotifier())
    with pytest.raises(jobs.InvalidPayload):
        dispatcher.deliver(jobs.Job(type="load.assigned", payload={"type": "load.assigned"}, id="x"))
    assert trail(store) == []


def test_filters_and_order(store):
    dispatcher = _dispatcher(store, FakeNotifier())
    first = fleet_event("load.assigned", occurred_at="2026-01-01T10:00:00+00:00")
    done = fleet_event(
        "load.completed",
        driver_id=first["driver_id"],
        load_id=first["load_id"],
        occurred_at="2026-01-01T12:00:00+00:00",
    )
    other = fleet_event("load.assigned", driver_id=first["driver_id"], occurred_at="2026-01-01T13:00:00+00:00")
    for event in (done, other, first):
        dispatcher.deliver(jobs.Job(type=event["type"], payload=event, id=str(uuid.uuid4())))
    assert [d["type"] for d in trail(store, load_id=first["load_id"])] == ["load.assigned", "load.completed"]
    assert len(trail(store, driver_id=first["driver_id"])) == 3
    assert len(trail(store, driver_id=first["driver_id"], type="load.assigned")) == 2
    assert len(trail(store, limit=1)) == 1


def test_handles_every_fleet_event_type():
    assert set(EVENT_TYPES) == {"load.assigned", "load.completed", "load.cancelled"}


def test_the_lag_from_event_to_record_is_observed_for_new_documents_only(store):
    from datetime import UTC, datetime, timedelta

    from prometheus_client import REGISTRY

    def lag() -> tuple[float, float]:
        return (
            REGISTRY.get_sample_value("audit_event_lag_seconds_count") or 0.0,
            REGISTRY.get_sample_value("audit_event_lag_seconds_sum") or 0.0,
        )

    occurred = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    handler = AuditHandler(store.unit_of_work, FakeNotifier(), clock=lambda: occurred + timedelta(seconds=3))
    dispatcher = jobs.Dispatcher(jobs.JobRegistry(), MockBus())
    handler.register(dispatcher.registry)
    count, total = lag()
    event = {**fleet_event(), "occurred_at": occurred.isoformat()}
    job = jobs.Job(type="load.assigned", payload=event, id=str(uuid.uuid4()))
    dispatcher.deliver(job)
    dispatcher.deliver(job)
    assert lag() == (count + 1, pytest.approx(total + 3.0))
