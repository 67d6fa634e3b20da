"""Hostile input through the real stack (gunicorn, Postgres, the bus, the audit store, DynamoDB): injection
strings are stored as data and read back verbatim, NoSQL operators in queries are refused, and an oversized
body is a 413 problem+json from every service."""

from __future__ import annotations

import uuid

import pytest
import requests
from e2e_support import AUDIT, BAKERY, DISPATCH, FLEET, audit_types, eventually
from suite_support import SERVICES, fill_path

pytestmark = pytest.mark.integration
INJECTIONS = [
    "Robert'); DROP TABLE fleet.loads;--",
    "' OR '1'='1",
    "'; SELECT pg_sleep(10); --",
    '{"$gt": ""}',
    '{"$where": "sleep(10000)"}',
    "$ne",
    "\\'; --",
    "%' AND 1=1 --",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_injection_strings_are_stored_and_read_back_verbatim(stack, http, hostile) -> None:
    tag = uuid.uuid4().hex[:8]
    driver = http.post(f"{FLEET}/drivers", json={"name": hostile, "licenseNumber": f"{hostile[:30]}{tag}"}, timeout=10)
    load = http.post(f"{FLEET}/loads", json={"origin": hostile, "destination": hostile, "cargoType": hostile})
    assert driver.status_code == 201 and load.status_code == 201, (driver.text, load.text)
    driver_id, load_id = driver.json()["id"], load.json()["id"]
    read = http.get(f"{FLEET}/loads/{load_id}", timeout=10).json()
    assert (read["origin"], read["destination"], read["cargoType"]) == (hostile, hostile, hostile)
    assert http.get(f"{FLEET}/drivers/{driver_id}", timeout=10).json()["name"] == hostile

    assigned = http.post(f"{FLEET}/assignments", json={"driverId": driver_id, "loadId": load_id}, timeout=10)
    assert assigned.status_code == 201, assigned.text
    eventually(lambda: audit_types(http, load_id), lambda t: t == ["load.assigned"], 60, "the audit document")
    document = http.get(f"{AUDIT}/audit-events", params={"loadId": load_id}, timeout=10).json()["items"][0]
    assert document["payload"]["driver"]["name"] == hostile

    listed = http.get(f"{FLEET}/loads", params={"limit": 100}, timeout=10)
    assert listed.status_code == 200 and listed.json()["total"] >= 1  # the table is still there


@pytest.mark.parametrize(
    "params",
    [
        {"loadId": '{"$ne": null}'},
        {"loadId[$ne]": "x"},
        {"driverId": "' OR 1=1 --"},
        {"type": "{'$gt': ''}"},
    ],
    ids=["json-operator", "bracket-operator", "sql-in-uuid", "operator-as-type"],
)
def test_operators_in_audit_queries_select_nothing_they_should_not(stack, http, params) -> None:
    answer = http.get(f"{AUDIT}/audit-events", params=params, timeout=10)
    if answer.status_code == 200:  # a free-text type filter: matched literally, so it finds nothing
        assert answer.json()["items"] == [], answer.text
    else:
        assert answer.status_code == 422 and answer.headers["Content-Type"] == "application/problem+json"


def test_hostile_ids_in_dispatch_and_bakery_are_refused_or_stored_as_data(stack, http) -> None:
    listed = http.get(f"{DISPATCH}/assignments", params={"driver_id": '{"$gt": ""}'}, timeout=30)
    if listed.status_code == 200:
        assert listed.json()["items"] == [], listed.text
    else:
        assert listed.status_code == 422 and listed.headers["Content-Type"] == "application/problem+json"
    update = {"driver_id": "' OR '1'='1", "package_id": '{"$ne": null}', "status": "delivered"}
    refused = http.post(f"{DISPATCH}/update", json=update, timeout=30)
    assert refused.status_code in (404, 422) and refused.headers["Content-Type"] == "application/problem+json"
    customer = "Mr O'Brien\"; DROP TABLE bakery.orders;--"
    made = http.post(f"{BAKERY}/cakes", json={"name": f"Cake {uuid.uuid4().hex[:6]}", "ingredients": {"flour": 1}})
    assert made.status_code == 201, made.text
    order = http.post(
        f"{BAKERY}/orders", json={"customer": customer, "recipe": made.json()["id"], "persons": 1, "quantity": 1}
    )
    assert order.status_code == 201, order.text
    assert http.get(f"{BAKERY}/orders/{order.json()['id']}", timeout=10).json()["customer"] == customer


def test_an_oversized_body_is_a_413_problem_from_every_service_behind_gunicorn(stack, token) -> None:
    body = b'{"pad": "' + b"x" * 2_000_000 + b'"}'
    refused = {}
    for name, port in SERVICES.items():
        base = f"http://127.0.0.1:{port}"
        document = requests.get(f"{base}/openapi.json", timeout=10).json()
        with_body = [
            (path, method)
            for path, ops in document["paths"].items()
            for method, op in ops.items()
            if "requestBody" in op and path != "/days/{date}/manifest"  # the one route that accepts 64 MiB
        ]
        if not with_body:
            continue
        path, method = with_body[0]
        answer = requests.request(
            method.upper(),
            f"{base}{fill_path(path)}",
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=30,
        )
        refused[name] = answer.status_code
        assert answer.status_code == 413, f"{name} {method.upper()} {path}: {answer.status_code}"
        assert answer.headers["Content-Type"] == "application/problem+json", name
    # automation-service and audit-worker take no body on any route.
    assert set(refused) == {"dispatch-service", "fleet-api", "gpt-service", "bakery-service"}, refused
