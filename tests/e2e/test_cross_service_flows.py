"""The suite's flows across services, on the running local stack: each follows one piece of work from the
request that starts it to every store it must reach."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import boto3
import pytest
import sqlalchemy as sa
from boto3.dynamodb.conditions import Key
from e2e_support import (
    AUTOMATION,
    AWS,
    BAKERY,
    DATABASE_URL,
    DISPATCH,
    FLEET,
    audit_types,
    eventually,
    inbox_to,
    new_driver_and_load,
)

pytestmark = pytest.mark.integration


def test_a_fleet_assignment_and_its_completion_reach_the_audit_trail_once(stack, http) -> None:
    driver_id, load_id = new_driver_and_load(http, f"flow-{uuid.uuid4().hex[:8]}")
    assigned = http.post(f"{FLEET}/assignments", json={"driverId": driver_id, "loadId": load_id}, timeout=10)
    assert assigned.status_code == 201, assigned.text
    completed = http.patch(
        f"{FLEET}/assignments/{assigned.json()['id']}/status", json={"status": "COMPLETED"}, timeout=10
    )
    assert completed.status_code == 200, completed.text
    eventually(lambda: audit_types(http, load_id), lambda t: len(t) >= 2, 60, "both events in the audit trail")
    assert audit_types(http, load_id) == ["load.assigned", "load.completed"]


def test_an_extraction_run_stores_loads_summaries_and_refreshes_the_view(stack, http) -> None:
    started = http.post(f"{AUTOMATION}/runs", timeout=10)
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    run = eventually(
        lambda: http.get(f"{AUTOMATION}/runs/{run_id}", timeout=10).json(),
        lambda r: r["status"] != "running",
        180,
        "the extraction run",
    )
    assert run["status"] == "succeeded", run
    assert run["loads_count"] == 40 and run["summaries_count"] >= 40, run
    engine = sa.create_engine(DATABASE_URL)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM loadboard.loads")).scalar_one()
            in_view = conn.execute(sa.text("SELECT count(*) FROM loadboard.load_insights")).scalar_one()
    finally:
        engine.dispose()
    assert stored >= 40 and in_view >= 40, (stored, in_view)
    top = http.get(f"{AUTOMATION}/loads/top-insights", timeout=10)
    assert top.status_code == 200 and len(top.json()["loads"]) == 5, top.text


def dynamodb_items(day: str, driver_ids: list[str]) -> list[dict]:
    table = aws("dynamodb", resource=True).Table("DeliveryAssignments")
    items = []
    for driver_id in driver_ids:
        items += table.query(KeyConditionExpression=Key("driver_id").eq(driver_id), ConsistentRead=True)["Items"]
    return [item for item in items if item.get("assignment_date") == day]


def aws(name: str, resource: bool = False):
    factory = boto3.resource if resource else boto3.client
    return factory(
        name, endpoint_url=AWS, region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local"
    )


def assign_log_lines(day: str) -> list[dict]:
    s3 = aws("s3")
    listed = s3.list_objects_v2(Bucket="dispatch-operational-logs", Prefix=f"logs/day={day}/assign/")
    lines = []
    for entry in listed.get("Contents", []):
        body = s3.get_object(Bucket="dispatch-operational-logs", Key=entry["Key"])["Body"].read().decode()
        lines += [json.loads(line) for line in body.splitlines() if line.strip()]
    return lines


def day_lists(day_offset: int, drivers: int, packages: int) -> tuple[str, dict]:
    """A day of its own far in the future, so that no other test's lists meet these."""
    day = (dt.date(2090, 1, 1) + dt.timedelta(days=day_offset)).isoformat()
    lists = {
        "drivers": [{"driver_id": f"e2e_{day_offset}_{i}", "rules": {"max_weight": 100}} for i in range(drivers)],
        "packages": [
            {
                "package_id": str(uuid.uuid4()),
                "weight": 10,
                "volume": 5,
                "region": "north",
                "distance": 3 + i,
                "perishable": False,
                "hazmat_class": None,
                "destination": f"{i} Main St",
            }
            for i in range(packages)
        ],
    }
    return day, lists


def test_a_dispatch_day_lands_in_dynamodb_and_the_s3_log_once(stack, http) -> None:
    day, lists = day_lists(0, drivers=3, packages=8)
    stored = http.post(f"{DISPATCH}/days/{day}/manifest", json=lists, timeout=30)
    assert stored.status_code == 201, stored.text
    driver_ids = [d["driver_id"] for d in lists["drivers"]]
    request = {"driver_ids": driver_ids, "max_per_driver": 2, "date": day}
    first = http.post(f"{DISPATCH}/assign", json=request, headers={"Idempotency-Key": f"e2e-{day}"}, timeout=60)
    assert first.status_code == 200, first.text
    again = http.post(f"{DISPATCH}/assign", json=request, headers={"Idempotency-Key": f"e2e-{day}"}, timeout=60)
    assert again.json() == first.json()
    assigned = {(d, p) for d, packages in first.json()["assignments"].items() for p in packages}
    assert len(assigned) == 6 and len(first.json()["unassigned_packages"]) == 2

    items = dynamodb_items(day, driver_ids)
    assert {(i["driver_id"], i["package_id"]) for i in items} == assigned and len(items) == len(assigned)
    logged = [(line["driver_id"], line["package_id"]) for line in assign_log_lines(day)]
    assert sorted(logged) == sorted(assigned)

    driver_id, package_id = sorted(assigned)[0]
    update = {"driver_id": driver_id, "package_id": package_id, "status": "in_progress"}
    moved = http.post(f"{DISPATCH}/update", json=update, timeout=30)
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress", moved.text
    listed = http.get(f"{DISPATCH}/assignments", params={"driver_id": driver_id, "date": day}, timeout=30)
    assert {i["package_id"]: i["status"] for i in listed.json()["items"]}[package_id] == "in_progress"


def cake(http) -> str:
    name = f"E2E Cake {uuid.uuid4().hex[:6]}"
    made = http.post(f"{BAKERY}/cakes", json={"name": name, "ingredients": {"flour": 100, "eggs": 2}}, timeout=10)
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_a_bakery_order_is_batched_notified_by_mail_and_cancelled(stack, http) -> None:
    recipe = cake(http)
    customer = f"Ms Flow {uuid.uuid4().hex[:6]}"
    placed = http.post(
        f"{BAKERY}/orders", json={"customer": customer, "recipe": recipe, "persons": 2, "quantity": 3}, timeout=10
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]

    batch = http.post(f"{BAKERY}/batches/run", timeout=30)
    assert batch.status_code == 200 and order_id in batch.json()["orders"], batch.text
    assert http.post(f"{BAKERY}/batches/run", timeout=30).json()["orders"] == []

    ready = http.post(f"{BAKERY}/orders/{order_id}/ready", timeout=10)
    assert ready.status_code == 200 and ready.json()["state"] == "ready", ready.text
    address = customer.lower().replace(" ", "_") + "@gmail.com"
    eventually(lambda: inbox_to(address), lambda m: len(m) >= 1, 60, f"the ready notice to {address}")
    order = eventually(
        lambda: http.get(f"{BAKERY}/orders/{order_id}", timeout=10).json(),
        lambda o: o["ready"]["state"] == "sent",
        30,
        "the ready notice marked sent",
    )
    assert order["ready"]["channel"] == "email" and order["ready"]["recipient"] == address

    cancelled = http.delete(f"{BAKERY}/orders/{order_id}", timeout=10)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled", cancelled.text
    assert http.delete(f"{BAKERY}/orders/{order_id}", timeout=10).json() == cancelled.json()
    # The customer was told it was ready: they are told, once, that it was cancelled.
    mails = eventually(lambda: inbox_to(address), lambda m: len(m) >= 2, 60, f"the correction to {address}")
    time.sleep(2)  # a second delivery of either would show now
    subjects = sorted(m["subject"] for m in inbox_to(address))
    assert subjects == [f"Your order #{order_id} is ready", f"Your order #{order_id} was cancelled"], mails
