"""Jira's webhook (signed, redelivery-safe) and employees with their GitHub access, on a real Postgres."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE, WEBHOOK_SECRET

pytestmark = pytest.mark.integration


def signed(body: dict, secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature": signature, "Content-Type": "application/json"}


def closed_event(key: str, labels: list[str]) -> dict:
    return {
        "webhookEvent": "jira:issue_updated",
        "issue": {
            "key": key,
            "fields": {"status": {"name": "Done", "statusCategory": {"key": "done"}}, "labels": labels},
        },
    }


@pytest.fixture()
def ticketed_orders(client, processor):
    client.post("/cakes", json=CHOCOLATE_CAKE)
    ids = [client.post("/orders", json=BRIEF_ORDER).get_json()["id"] for _ in range(2)]
    client.post("/batches/run")
    processor.run_once()
    assert client.get(f"/orders/{ids[0]}").get_json()["ticket_key"] == "BAKE-1"
    return ids


def test_closed_with_missing_ingredients_cancels_the_orders_once(app, client, ticketed_orders, outbox) -> None:
    raw, headers = signed(closed_event("BAKE-1", ["missing-ingredients"]))
    anonymous = app.test_client()  # Jira sends no token: the signature is its credential
    first = anonymous.post("/webhooks/jira", data=raw, headers=headers)
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"ticket_key": "BAKE-1", "cancelled": ticketed_orders}
    assert {client.get(f"/orders/{i}").get_json()["state"] for i in ticketed_orders} == {"cancelled"}
    redelivered = anonymous.post("/webhooks/jira", data=raw, headers=headers)
    assert redelivered.get_json() == {"ticket_key": "BAKE-1", "cancelled": []}
    assert len(outbox("drive")) == 2  # one Drive line per order, not per delivery


@pytest.mark.parametrize(
    "header", ["sha256=é", "sha256=" + "é" * 64, "sha256=" + "f" * 100_000, "sha256=", "md5=00", "sha256=0x00"]
)
def test_a_malformed_signature_header_is_401_problem_json(app, header: str) -> None:
    raw = json.dumps(closed_event("BAKE-1", ["missing-ingredients"])).encode()
    answer = app.test_client().post(
        "/webhooks/jira", data=raw, headers={"X-Hub-Signature": header, "Content-Type": "application/json"}
    )
    assert answer.status_code == 401 and answer.headers["Content-Type"] == "application/problem+json"


def test_other_ticket_events_change_nothing(app, client, ticketed_orders) -> None:
    for event in (closed_event("BAKE-1", ["late"]), closed_event("BAKE-404", ["missing-ingredients"])):
        raw, headers = signed(event)
        assert app.test_client().post("/webhooks/jira", data=raw, headers=headers).get_json()["cancelled"] == []
    assert {client.get(f"/orders/{i}").get_json()["state"] for i in ticketed_orders} == {"placed"}


@pytest.mark.parametrize("secret", ["wrong-secret", None])
def test_without_a_valid_signature_401_and_nothing_changes(app, client, ticketed_orders, secret) -> None:
    raw, headers = signed(closed_event("BAKE-1", ["missing-ingredients"]), secret or "x")
    if secret is None:
        headers.pop("X-Hub-Signature")
    response = app.test_client().post("/webhooks/jira", data=raw, headers=headers)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert client.get(f"/orders/{ticketed_orders[0]}").get_json()["state"] == "placed"


def test_a_signed_body_that_is_not_a_jira_event_is_422(app) -> None:
    raw, headers = signed({"hello": "world"})
    assert app.test_client().post("/webhooks/jira", data=raw, headers=headers).status_code == 422
    for raw in (b"not json", b"[" * 100_000 + b"]" * 100_000):
        headers["X-Hub-Signature"] = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert app.test_client().post("/webhooks/jira", data=raw, headers=headers).status_code in (413, 422)
    raw = b"not json"
    headers["X-Hub-Signature"] = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert app.test_client().post("/webhooks/jira", data=raw, headers=headers).status_code == 422


JACK = {"firstName": "Jack", "lastName": "Harrot", "githubUsername": "jharrot", "permissions": {"developer": True}}


def test_a_developer_is_granted_access_and_loses_it_with_the_permission(client, outbox) -> None:
    created = client.post("/employees", json=JACK)
    assert created.status_code == 201
    jack = created.get_json()
    assert {k: jack[k] for k in ("firstName", "lastName", "githubUsername", "permissions")} == JACK
    assert client.get(f"/employees/{jack['id']}").get_json() == jack
    patched = client.patch(f"/employees/{jack['id']}", json={"permissions": {"developer": False}}).get_json()
    assert patched["permissions"] == {"developer": False} and patched["firstName"] == "Jack"
    assert [(a["action"], a["payload"]["username"]) for a in outbox("github")] == [
        ("grant", "jharrot"),
        ("revoke", "jharrot"),
    ]


def test_a_fired_developer_loses_access_and_a_new_username_moves_it(client, outbox) -> None:
    jack = client.post("/employees", json=JACK).get_json()
    client.patch(f"/employees/{jack['id']}", json={"githubUsername": "jack-h"})
    assert client.delete(f"/employees/{jack['id']}").status_code == 204
    assert client.get(f"/employees/{jack['id']}").status_code == 404
    assert [(a["action"], a["payload"]["username"]) for a in outbox("github")] == [
        ("grant", "jharrot"),
        ("revoke", "jharrot"),
        ("grant", "jack-h"),
        ("revoke", "jack-h"),
    ]


def test_a_non_developer_needs_no_github_account(client, outbox) -> None:
    ann = client.post("/employees", json={"firstName": "Ann", "lastName": "Baker"}).get_json()
    assert ann["permissions"] == {"developer": False} and ann["githubUsername"] is None
    assert [e["id"] for e in client.get("/employees").get_json()["items"]] == [ann["id"]]
    assert outbox("github") == []


@pytest.mark.parametrize(
    "body",
    [
        {"firstName": "Jack", "lastName": "Harrot", "permissions": {"developer": True}},
        {**JACK, "githubUsername": "-bad-"},
        {**JACK, "permissions": {"developer": "yes"}},
        {**JACK, "first_name": "Jack"},
        {"lastName": "Harrot"},
    ],
)
def test_bad_employees_are_422_and_create_nothing(client, outbox, body) -> None:
    response = client.post("/employees", json=body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert client.get("/employees").get_json()["items"] == [] and outbox() == []


def test_making_someone_without_an_account_a_developer_is_409(client) -> None:
    ann = client.post("/employees", json={"firstName": "Ann", "lastName": "Baker"}).get_json()
    assert client.patch(f"/employees/{ann['id']}", json={"permissions": {"developer": True}}).status_code == 409
    assert client.patch("/employees/999999", json={"firstName": "X"}).status_code == 404
