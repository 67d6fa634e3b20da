"""GET /audit-events and the health of the web process."""

from __future__ import annotations

import uuid

import jobs

from ..conftest import fleet_event, record


def _app(settings, store):
    from audit_worker import create_app
    from audit_worker.wiring import build_dependencies

    return create_app(settings, build_dependencies(settings, store=store))


def _record(store, event):
    from audit_worker.domain.audit import FleetEvent, audit_document

    record(store, audit_document(str(uuid.uuid4()), FleetEvent.model_validate(event)))


def test_the_trail_is_filtered_by_load_driver_and_type(settings, store, auth):
    first = fleet_event("load.assigned")
    _record(store, first)
    _record(store, fleet_event("load.completed", driver_id=first["driver_id"], load_id=first["load_id"]))
    _record(store, fleet_event("load.assigned"))
    client = _app(settings, store).test_client()
    by_load = client.get(f"/audit-events?loadId={first['load_id']}", headers=auth).get_json()
    assert by_load["count"] == 2 and [i["type"] for i in by_load["items"]] == [
        "load.assigned",
        "load.completed",
    ]
    assert set(by_load["items"][0]) == {
        "eventId",
        "requestId",
        "type",
        "driverId",
        "loadId",
        "payload",
        "occurredAt",
        "recordedAt",
        "notifiedAt",
    }
    by_type = client.get(f"/audit-events?driverId={first['driver_id']}&type=load.completed", headers=auth)
    assert by_type.get_json()["count"] == 1
    assert client.get("/audit-events", headers=auth).get_json()["count"] == 3


def test_payloads_answer_in_the_api_field_style_old_snake_case_documents_too(settings, store, auth):
    from audit_worker.domain.audit import FleetEvent, audit_document

    new, old = fleet_event(), fleet_event()
    _record(store, new)
    # A document written before payloads were camelCase: the event as fleet-api sent it.
    legacy = audit_document(str(uuid.uuid4()), FleetEvent.model_validate(old))
    record(store, {**legacy, "payload": old})
    client = _app(settings, store).test_client()
    for event in (new, old):
        [item] = client.get(f"/audit-events?loadId={event['load_id']}", headers=auth).get_json()["items"]
        payload = item["payload"]
        assert payload["assignmentId"] == event["assignment_id"]
        assert payload["assignmentStatus"] == "ASSIGNED" and payload["occurredAt"]
        assert payload["driver"] == {
            "id": event["driver_id"],
            "name": "Ann Lee",
            "licenseNumber": "TX-1",
            "status": "ON_LOAD",
        }
        assert payload["load"]["cargoType"] == "steel"
        assert not [key for key in (*payload, *payload["driver"], *payload["load"]) if "_" in key]


def test_bad_queries_are_422_and_a_token_is_needed(settings, store, auth):
    client = _app(settings, store).test_client()
    assert client.get("/audit-events?loadId=nope", headers=auth).status_code == 422
    assert client.get("/audit-events?limit=0", headers=auth).status_code == 422
    assert client.get("/audit-events").status_code == 401
    assert client.get("/healthz").status_code == 200


def test_readiness_names_the_store_and_the_consumer_mode(settings, store):
    ready = _app(settings, store).test_client().get("/readyz")
    assert ready.status_code == 200
    checks = ready.get_json()["checks"]
    assert checks["store"]["store"] in ("memory", "mongo", "postgres")
    assert checks["consumer"]["mode"] == "separate process"


def test_the_embedded_consumer_feeds_the_store_the_endpoint_serves(settings, auth):
    import time

    from audit_worker import create_app
    from audit_worker.adapters.memory_store import MemoryAuditStore
    from audit_worker.wiring import build_dependencies
    from jobs.providers.inprocess import InProcessProvider
    from servicekit import close_app

    bus = InProcessProvider()
    store = MemoryAuditStore()
    embedded = settings.model_copy(update={"audit_consumer": "embedded"})
    deps = build_dependencies(embedded, store=store, dispatcher=jobs.Dispatcher(jobs.JobRegistry(), bus))
    app = create_app(embedded, deps)
    try:
        event = fleet_event()
        bus.publish(jobs.Job(type="load.assigned", payload=event, id=str(uuid.uuid4())))
        client = app.test_client()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not client.get("/audit-events", headers=auth).get_json()["count"]:
            time.sleep(0.05)
        assert client.get(f"/audit-events?loadId={event['load_id']}", headers=auth).get_json()["count"] == 1
        checks = client.get("/readyz").get_json()["checks"]
        assert checks["consumer"] == {
            "status": "up",
            "latency_ms": checks["consumer"]["latency_ms"],
            "mode": "embedded",
            "provider": "inprocess",
        }
    finally:
        close_app(app)


def test_the_separate_consumer_refuses_the_memory_store(settings):
    import pytest
    from audit_worker.consumer import register

    with pytest.raises(SystemExit, match="AUDIT_STORE=memory"):
        register(jobs.JobRegistry(), settings)


def test_an_unreachable_mongodb_is_a_503_problem_with_retry_after(settings, auth):
    from audit_worker.adapters.mongo_store import MongoAuditStore
    from pymongo import MongoClient
    from testkit.servers import free_port

    # A real driver against a port nobody listens on: the error a MongoDB outage raises.
    unreachable = MongoClient(f"mongodb://127.0.0.1:{free_port()}", serverSelectionTimeoutMS=200, connect=False)
    store = MongoAuditStore(unreachable["audit"])
    try:
        response = _app(settings, store).test_client().get("/audit-events", headers=auth)
    finally:
        unreachable.close()
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"]
