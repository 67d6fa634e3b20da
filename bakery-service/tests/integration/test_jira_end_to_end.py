"""Jira end to end: the real wiring and Jira client against a local fake of Jira Cloud's REST API over HTTP.
An order's ticket is created once (even when the batch runs again and the processor retries), its key lands
on the orders, and Jira's signed webhook for the closed ticket cancels them."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE, WEBHOOK_SECRET  # noqa: E402
from .fakes.jira import FakeJira  # noqa: E402

pytestmark = pytest.mark.integration
EMAIL, TOKEN = "bakery@example.com", "jira-api-token-for-tests"


def adf_text(node) -> str:
    if isinstance(node, dict):
        return node.get("text", "") + " ".join(adf_text(child) for child in node.get("content", []))
    return ""


@pytest.mark.parametrize("mode", ["daily", "per-order"])
def test_one_ticket_its_key_on_the_orders_and_the_webhook_cancels_them(make_settings, httpserver, mode) -> None:
    from bakery_service import create_app
    from bakery_service.background.outbox_processor import OutboxProcessor
    from bakery_service.wiring import build_dependencies
    from servicekit import issue_token

    jira = FakeJira(httpserver, email=EMAIL, token=TOKEN)
    settings = make_settings(jira_url=jira.url, jira_email=EMAIL, jira_api_token=TOKEN, jira_mode=mode)
    deps = build_dependencies(settings)
    app = create_app(settings, deps)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(settings, 'baker')[0]}"
    processor = OutboxProcessor(deps.engine, deps.clients, settings)

    client.post("/cakes", json=CHOCOLATE_CAKE)
    order = client.post("/orders", json=BRIEF_ORDER).get_json()
    client.post("/batches/run")
    client.post("/batches/run")
    processor.run_once()
    processor.run_once()

    [(key, issue)] = jira.issues.items()
    fields = issue["fields"]
    text = adf_text(fields["description"])
    assert "268 g" in text and "peanuts" in text and fields["duedate"]
    if mode == "per-order":
        assert fields["summary"] == f"Order #{order['id']}"
    assert client.get(f"/orders/{order['id']}").get_json()["ticket_key"] == key

    event = {"issue": {"key": key, "fields": {"status": {"statusCategory": {"key": "done"}, "name": "Done"},
                                              "labels": ["missing-ingredients"]}}}  # fmt: skip
    raw = json.dumps(event).encode()
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature": signature, "Content-Type": "application/json"}
    for _ in range(2):  # delivered, then redelivered
        app.test_client().post("/webhooks/jira", data=raw, headers=headers)
    assert client.get(f"/orders/{order['id']}").get_json()["state"] == "cancelled"
    drive = {i["name"]: i for i in client.get("/integrations").get_json()["items"]}["drive"]
    assert (drive["configured"], drive["status"], drive["pending"], drive["held"]) == (False, "disabled", 0, 1)
    deps.engine.dispose()
