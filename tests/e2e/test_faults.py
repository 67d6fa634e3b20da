"""Faults injected into the running local stack, one backing server at a time: each test stops it through
supervisord, asserts what the services do meanwhile, starts it again, and asserts that nothing was lost or
duplicated. Processes killed with SIGKILL are tests/e2e/test_kills.py's; service-level faults (model, portals,
outside APIs) are listed in docs/reliability.md with the tests that prove them."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from e2e_support import AUDIT, BAKERY, DISPATCH, FLEET, audit_types, eventually, inbox_to, new_driver_and_load
from stack_harness import all_ready
from test_cross_service_flows import assign_log_lines, cake, day_lists, dynamodb_items

pytestmark = pytest.mark.integration
# Every service's gunicorn master must be the same process after a backing server comes back: recovery
# happens inside the services, not by supervisord restarting them.
SERVICE_PROCESSES = (
    "services:dispatch-service",
    "services:fleet-api",
    "services:gpt-service",
    "services:automation-service",
    "services:bakery-service",
    "services:audit-worker",
)


def service_pids(stack) -> dict[str, int]:
    return {name: stack.pid(name) for name in SERVICE_PROCESSES}


def back_up(stack, name: str, timeout: float = 90) -> float:
    """Start `name` again; seconds until every service answers /readyz 200."""
    started = time.monotonic()
    stack.rpc.startProcess(name)
    eventually(all_ready, bool, timeout, f"every service ready after {name} came back")
    return time.monotonic() - started


def as_a_client_would(send, timeout: float = 60) -> requests.Response:
    """Send again after each 503, waiting what its Retry-After says."""
    deadline = time.monotonic() + timeout
    answer = send()
    while answer.status_code == 503 and time.monotonic() < deadline:
        time.sleep(float(answer.headers.get("Retry-After", "1")))
        answer = send()
    return answer


def inbox_answers() -> bool:
    try:
        return requests.get("http://127.0.0.1:8025/api/email", timeout=3).ok
    except requests.RequestException:
        return False


def readiness(port: int) -> int | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code
    except requests.RequestException:
        return None


def test_redis_down_loads_come_from_postgres_and_events_wait_for_the_bus(stack, http) -> None:
    """Redis is both the cache of GET /loads and the event bus: with it stopped, GET /loads is still correct
    (a load created meanwhile is listed, not a stale cached page), assignments succeed, and their events reach
    the audit trail once Redis returns, each exactly once."""
    tag = uuid.uuid4().hex[:8]
    pairs = [new_driver_and_load(http, f"redis-{tag}-{i}") for i in range(3)]
    warm = http.get(f"{FLEET}/loads", params={"status": "OPEN", "limit": 100}, timeout=10)
    assert warm.status_code == 200
    pids = service_pids(stack)

    stack.rpc.stopProcess("infra:redis")
    try:
        created_meanwhile = new_driver_and_load(http, f"redis-{tag}-down")[1]
        for driver_id, load_id in pairs:
            answer = http.post(f"{FLEET}/assignments", json={"driverId": driver_id, "loadId": load_id}, timeout=30)
            assert answer.status_code == 201, answer.text
        page = http.get(f"{FLEET}/loads", params={"status": "OPEN", "limit": 100}, timeout=30)
        assert page.status_code == 200, page.text
        open_ids = {item["id"] for item in page.json()["items"]}
        assert created_meanwhile in open_ids, "a load created while Redis was down is missing from GET /loads"
        assert not open_ids & {load_id for _, load_id in pairs}, "assigned loads still listed as OPEN"
        assert page.headers.get("X-Cache-Source") == "postgres", page.headers
    finally:
        recovered = back_up(stack, "infra:redis")
    print(f"stack ready {recovered:.1f}s after Redis started again")

    for _, load_id in pairs:
        eventually(lambda i=load_id: audit_types(http, i), lambda t: t, 90, f"the event of load {load_id}")
    time.sleep(2)  # a late duplicate would show now
    assert [audit_types(http, load_id) for _, load_id in pairs] == [["load.assigned"]] * len(pairs)
    assert service_pids(stack) == pids


def test_postgres_restart_makes_services_unready_then_they_recover_by_themselves(stack, http) -> None:
    pids = service_pids(stack)
    on_postgres = {"fleet-api": 8001, "automation-service": 8003, "bakery-service": 8004, "audit-worker": 8005}
    stack.rpc.stopProcess("infra:postgres")
    try:
        for name, port in on_postgres.items():
            status = eventually(lambda p=port: readiness(p), lambda s: s == 503, 30, f"{name} reporting not ready")
            assert status == 503
        refused = http.post(f"{FLEET}/drivers", json={"name": "x", "licenseNumber": f"PG-{uuid.uuid4()}"}, timeout=30)
        assert refused.status_code == 503 and refused.headers["Content-Type"] == "application/problem+json"
    finally:
        recovered = back_up(stack, "infra:postgres")
    print(f"every service ready {recovered:.1f}s after Postgres started again")
    assert service_pids(stack) == pids, "a service had to be restarted to recover"
    driver_id, load_id = new_driver_and_load(http, f"pg-{uuid.uuid4().hex[:8]}")
    assigned = http.post(f"{FLEET}/assignments", json={"driverId": driver_id, "loadId": load_id}, timeout=10)
    assert assigned.status_code == 201, assigned.text
    eventually(lambda: audit_types(http, load_id), lambda t: t == ["load.assigned"], 60, "the event after recovery")


def test_aws_down_dispatch_answers_503_and_the_retried_assignment_completes_once(stack, http) -> None:
    day, lists = day_lists(1, drivers=4, packages=10)
    assert http.post(f"{DISPATCH}/days/{day}/manifest", json=lists, timeout=30).status_code == 201
    request = {"driver_ids": [d["driver_id"] for d in lists["drivers"]], "max_per_driver": 2, "date": day}
    key = {"Idempotency-Key": f"faults-{day}"}

    stack.rpc.stopProcess("infra:aws")
    try:
        started = time.monotonic()
        refused = http.post(f"{DISPATCH}/assign", json=request, headers=key, timeout=120)
        seconds = time.monotonic() - started
        assert refused.status_code == 503, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json" and "Retry-After" in refused.headers
        print(f"503 after {seconds:.1f}s with Retry-After {refused.headers['Retry-After']}")
        assert readiness(8000) == 503
    finally:
        back_up(stack, "infra:aws")
    # The AWS twin keeps its state on disk: the day's lists uploaded before it stopped are still there.
    kept = as_a_client_would(lambda: http.get(f"{DISPATCH}/days/{day}/manifest", timeout=30))
    assert kept.status_code == 200, kept.text
    assert [p["package_id"] for p in kept.json()["packages"]] == [p["package_id"] for p in lists["packages"]]
    retried = as_a_client_would(lambda: http.post(f"{DISPATCH}/assign", json=request, headers=key, timeout=60))
    assert retried.status_code == 200, retried.text
    assigned = {(d, p) for d, packages in retried.json()["assignments"].items() for p in packages}
    assert len(assigned) == 8
    again = http.post(f"{DISPATCH}/assign", json=request, headers=key, timeout=60)
    assert again.json() == retried.json()
    items = dynamodb_items(day, request["driver_ids"])
    assert len(items) == len(assigned) and {(i["driver_id"], i["package_id"]) for i in items} == assigned
    assert sorted((line["driver_id"], line["package_id"]) for line in assign_log_lines(day)) == sorted(assigned)


def email_integration(http) -> dict:
    items = http.get(f"{BAKERY}/integrations", timeout=10).json()["items"]
    return next(item for item in items if item["name"] == "email")


def test_smtp_down_the_ready_notice_is_kept_and_replayed_once(stack, http) -> None:
    recipe = cake(http)
    customer = f"Mr Outage {uuid.uuid4().hex[:6]}"
    address = customer.lower().replace(" ", "_") + "@gmail.com"
    order = http.post(f"{BAKERY}/orders", json={"customer": customer, "recipe": recipe, "persons": 1, "quantity": 1})
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]

    stack.rpc.stopProcess("infra:maildev")
    try:
        ready = http.post(f"{BAKERY}/orders/{order_id}/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        email = eventually(
            lambda: email_integration(http),
            lambda e: (e["last_result"] or {}).get("error"),
            60,
            "the failed delivery recorded",
        )
        assert email["pending"] + email["failed"] >= 1, email
        assert http.get(f"{BAKERY}/orders/{order_id}", timeout=10).json()["ready"]["state"] == "pending"
    finally:
        stack.rpc.startProcess("infra:maildev")
    eventually(inbox_answers, bool, 30, "the inbox")
    # The processor retries on its own backoff; replay makes the action due at once. Either way: one e-mail.
    replay = http.post(f"{BAKERY}/integrations/email/replay", timeout=10)
    assert replay.status_code == 200, replay.text
    eventually(lambda: inbox_to(address), lambda m: len(m) >= 1, 60, f"the replayed notice to {address}")
    eventually(
        lambda: http.get(f"{BAKERY}/orders/{order_id}", timeout=10).json()["ready"]["state"],
        lambda s: s == "sent",
        30,
        "the notice marked sent",
    )
    time.sleep(2)  # a second delivery would show now
    assert len(inbox_to(address)) == 1


def test_the_audit_trail_answers_while_fleet_is_down(stack, http) -> None:
    """One service down takes no other with it: audit-worker keeps answering while fleet-api is stopped."""
    driver_id, load_id = new_driver_and_load(http, f"iso-{uuid.uuid4().hex[:8]}")
    assert http.post(f"{FLEET}/assignments", json={"driverId": driver_id, "loadId": load_id}).status_code == 201
    eventually(lambda: audit_types(http, load_id), lambda t: t == ["load.assigned"], 60, "the event")
    stack.rpc.stopProcess("services:fleet-api")
    try:
        assert requests.get(f"{AUDIT}/readyz", timeout=5).status_code == 200
        assert audit_types(http, load_id) == ["load.assigned"]
    finally:
        back_up(stack, "services:fleet-api")
