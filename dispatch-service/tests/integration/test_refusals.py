"""Every refusal of dispatch-service as a client reads it: status, problem+json body (title, detail, errors and
the members a client acts on), Retry-After, and the /assign outcome it counts; on moto's real server."""

from __future__ import annotations

import re
import time

import pytest
from dispatch_service import create_app
from dispatch_service.adapters.day_ledger import Lease
from dispatch_service.wiring import build_dependencies
from dispatch_support import DAY, package
from prometheus_client import REGISTRY

pytestmark = pytest.mark.integration
OTHER_DAY = "2026-12-01"


def lists() -> dict:
    return {
        "drivers": [{"driver_id": "driver_1"}, {"driver_id": "driver_2"}],
        "packages": [package("p0"), package("p1"), package("p2")],
    }


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body.pop("request_id")
    return body


def runs(outcome: str) -> float:
    return REGISTRY.get_sample_value("dispatch_assign_runs_total", {"outcome": outcome}) or 0.0


def assign(client, headers, drivers, key: str | None = None, day: str = str(DAY)):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(
        "/assign", json={"driver_ids": drivers, "max_per_driver": 2, "date": day}, headers={**headers, **extra}
    )


def test_assign_refusals(client, headers, upload) -> None:
    assert problem(assign(client, headers, ["driver_1"], day=OTHER_DAY), 404) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": f"No lists for {OTHER_DAY}: upload them (POST /days/{OTHER_DAY}/manifest) or generate them "
        "(make day).",
        "instance": "/assign",
    }
    upload(lists())

    before = runs("unknown_drivers")
    assert problem(assign(client, headers, ["driver_1", "ghost"]), 422) == {
        "type": "about:blank",
        "title": "Unknown drivers",
        "status": 422,
        "detail": f"Not in the lists of {DAY}: ghost",
        "instance": "/assign",
        "errors": [{"loc": "body.driver_ids", "msg": "unknown driver ghost", "type": "unknown"}],
    }
    assert runs("unknown_drivers") == before + 1

    bad_key = assign(client, headers, ["driver_1"], key="not a key!")
    assert problem(bad_key, 422) == {
        "type": "about:blank",
        "title": "Validation failed",
        "status": 422,
        "detail": "Invalid: header.Idempotency-Key (1-64 of A-Z a-z 0-9 _ . : -)",
        "instance": "/assign",
        "errors": [{"loc": "header.Idempotency-Key", "msg": "1-64 of A-Z a-z 0-9 _ . : -", "type": "pattern"}],
    }

    assert assign(client, headers, ["driver_1"], key="key-1").status_code == 200
    before = runs("key_reused")
    assert problem(assign(client, headers, ["driver_2"], key="key-1"), 422) == {
        "type": "about:blank",
        "title": "Idempotency-Key reused",
        "status": 422,
        "detail": f"Idempotency-Key key-1 was used on {DAY} for another request (other drivers, max_per_driver or "
        "date); send a new key for a new request.",
        "instance": "/assign",
        "errors": [{"loc": "header.Idempotency-Key", "msg": "key-1 belongs to another request", "type": "reused"}],
    }
    assert runs("key_reused") == before + 1


def test_a_day_over_the_memory_budget(settings, headers) -> None:
    tight = settings.model_copy(update={"assign_memory_budget_bytes": 2**20})
    client = create_app(tight, build_dependencies(tight)).test_client()
    assert client.post(f"/days/{DAY}/manifest", json=lists(), headers=headers).status_code == 201
    before = runs("too_large")
    body = problem(assign(client, headers, ["driver_1"]), 422)
    detail = body.pop("detail")
    assert body == {
        "type": "about:blank",
        "title": "Day too large",
        "status": 422,
        "instance": "/assign",
        "errors": [{"loc": "body.driver_ids", "msg": "over the memory budget", "type": "too_large"}],
        "budget_bytes": 2**20,
    }
    assert detail.startswith("Assigning 3 packages to 1 drivers needs about ")
    assert detail.endswith(
        "over the memory budget of 1 MiB (ASSIGN_MEMORY_BUDGET_BYTES); send fewer drivers per request."
    )
    assert runs("too_large") == before + 1


def test_a_day_held_by_another_run(settings, headers) -> None:
    impatient = settings.model_copy(update={"assign_wait_seconds": 0})
    deps = build_dependencies(impatient)
    client = create_app(impatient, deps).test_client()
    assert client.post(f"/days/{DAY}/manifest", json=lists(), headers=headers).status_code == 201
    held = deps.ledger.acquire(str(DAY), "another-worker", "run-elsewhere", int(time.time() * 1000), 60_000)
    assert isinstance(held, Lease)  # this test holds the day, as another worker's run would
    before = runs("busy")
    response = assign(client, headers, ["driver_1"])
    body = problem(response, 409)
    retry_after = response.headers["Retry-After"]
    assert re.fullmatch(r"\d+", retry_after) and 1 <= int(retry_after) <= 60
    assert body == {
        "type": "about:blank",
        "title": "Run in progress",
        "status": 409,
        "detail": f"Another /assign run (run-elsewhere) is writing the assignments of {DAY} and did not finish "
        f"within 0 s; retry after {retry_after} s (an identical request then answers that run's result).",
        "instance": "/assign",
        "run_id": "run-elsewhere",
    }
    assert runs("busy") == before + 1


def test_manifest_refusals(client, headers) -> None:
    assert problem(client.get(f"/days/{OTHER_DAY}/manifest", headers=headers), 404) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": f"No lists for {OTHER_DAY}: upload them (POST /days/{OTHER_DAY}/manifest) or generate them "
        "(make day).",
        "instance": f"/days/{OTHER_DAY}/manifest",
    }
    twice = {"drivers": [{"driver_id": "driver_1"}, {"driver_id": "driver_1"}], "packages": [package("p0")]}
    assert problem(client.post(f"/days/{DAY}/manifest", json=twice, headers=headers), 409) == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "Ids must be unique within each list; repeated: body.drivers.driver_id driver_1",
        "instance": f"/days/{DAY}/manifest",
        "errors": [{"loc": "body.drivers.driver_id", "msg": "driver_1 repeated", "type": "repeated_id"}],
    }
    assert problem(client.get(f"/days/{DAY}/manifest", headers=headers), 404)["title"] == "Not Found"


def test_update_and_listing_refusals(client, headers, upload) -> None:
    upload(lists())
    assert assign(client, headers, ["driver_1"]).status_code == 200
    missing = client.post(
        "/update", json={"driver_id": "driver_2", "package_id": "p0", "status": "accepted"}, headers=headers
    )
    assert problem(missing, 404) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No assignment of package p0 to driver driver_2.",
        "instance": "/update",
    }
    skipping = client.post(
        "/update", json={"driver_id": "driver_1", "package_id": "p0", "status": "delivered"}, headers=headers
    )
    assert problem(skipping, 409) == {
        "type": "about:blank",
        "title": "Transition not allowed",
        "status": 409,
        "detail": "assigned -> delivered is not allowed; from assigned: accepted, failed_to_deliver, in_progress.",
        "instance": "/update",
        "current_status": "assigned",
    }
    assert problem(client.get("/assignments?cursor=abc", headers=headers), 404) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No page at this cursor (cursor is not one this service issued); start again without one.",
        "instance": "/assignments",
        "errors": [{"loc": "query.cursor", "msg": "cursor is not one this service issued", "type": "invalid_cursor"}],
    }


def test_a_bucket_that_is_not_there_is_an_outage(settings, headers) -> None:
    unprovisioned = settings.model_copy(update={"provision_aws_resources": False})
    client = create_app(unprovisioned, build_dependencies(unprovisioned)).test_client()
    response = client.post(f"/days/{DAY}/manifest", json=lists(), headers=headers)
    assert problem(response, 503) == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "S3 is unavailable; retry later (the same request completes once).",
        "instance": f"/days/{DAY}/manifest",
    }
    assert response.headers["Retry-After"] == "5"
