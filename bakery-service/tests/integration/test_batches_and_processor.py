"""The daily batch (idempotent, once per scheduled day) and the outbox processor, on a real Postgres.

The outside-API clients are test doubles here: what is under test is the processor (claiming, settling,
retrying, recording results on the orders), not the vendors' APIs.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from bakery_service.adapters.integration_errors import IntegrationError, NotConfigured
from bakery_service.batches import run_batch

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE

pytestmark = pytest.mark.integration


@pytest.fixture()
def two_orders(client):
    client.post("/cakes", json=CHOCOLATE_CAKE)
    return [client.post("/orders", json=BRIEF_ORDER).get_json()["id"] for _ in range(2)]


def test_running_the_batch_twice_asks_for_one_ticket(client, two_orders, outbox) -> None:
    first = client.post("/batches/run")
    assert first.status_code == 200
    body = first.get_json()
    assert body["orders"] == two_orders and body["label"] == f"bakery-batch-{body['batch_id']}"
    assert {i["ingredient"]: i["display"] for i in body["ingredients"]}["chocolate"] == "536 g"
    second = client.post("/batches/run").get_json()
    assert second == {"batch_id": None, "orders": [], "ingredients": [], "label": None, "ticket_key": None}
    assert len(outbox("jira")) == 1


def test_concurrent_batches_take_each_order_once(deps, two_orders, outbox) -> None:
    results = []
    threads = [threading.Thread(target=lambda: results.append(run_batch(deps.store, deps.settings))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r.orders) for r in results) == [0, 0, 0, 2]
    assert len(outbox("jira")) == 1


def test_the_scheduled_batch_runs_once_a_day(deps, client, two_orders, outbox) -> None:
    day = date(2026, 11, 30)
    assert run_batch(deps.store, deps.settings, "schedule", day).orders == two_orders
    third = client.post("/orders", json=BRIEF_ORDER).get_json()["id"]
    assert run_batch(deps.store, deps.settings, "schedule", day).orders == []
    assert run_batch(deps.store, deps.settings, "schedule", date(2026, 12, 1)).orders == [third]
    assert len(outbox("jira")) == 2


def test_the_jira_action_records_the_ticket_on_every_order_of_the_batch(
    client, two_orders, processor, fakes, outbox
) -> None:
    client.post("/batches/run")
    assert processor.run_once() == 1
    [(summary, description, due, labels)] = fakes.jira.named("create_ticket")
    assert "2 orders" in summary and "| chocolate | 536 g |" in description and due is not None
    assert {client.get(f"/orders/{i}").get_json()["ticket_key"] for i in two_orders} == {"BAKE-1"}
    assert outbox("jira")[0]["state"] == "done" and outbox("jira")[0]["result"] == {"ticket_key": "BAKE-1"}


def test_a_ticket_created_before_a_crash_is_found_not_created_again(client, two_orders, processor, fakes) -> None:
    client.post("/batches/run")
    fakes.jira.answers["find_ticket_by_label"] = "BAKE-77"
    processor.run_once()
    assert fakes.jira.named("create_ticket") == []
    assert client.get(f"/orders/{two_orders[0]}").get_json()["ticket_key"] == "BAKE-77"


def test_ready_via_slack_records_channel_recipient_and_time(client, two_orders, processor, fakes) -> None:
    fakes.slack.answers["find_user"] = "U0CAKE"
    client.post(f"/orders/{two_orders[0]}/ready")
    processor.run_once()
    assert fakes.slack.named("find_user") == [("Mr. Cakelover",)]
    [(user, text)] = fakes.slack.named("send_direct_message")
    assert user == "U0CAKE" and f"#{two_orders[0]}" in text
    ready = client.get(f"/orders/{two_orders[0]}").get_json()["ready"]
    assert (ready["state"], ready["channel"], ready["recipient"]) == ("sent", "slack", "U0CAKE")
    assert ready["notified_at"]


def test_ready_falls_back_to_email_when_slack_does_not_know_the_customer(
    client, two_orders, processor, fakes, outbox
) -> None:
    fakes.slack.answers["find_user"] = None
    client.post(f"/orders/{two_orders[0]}/ready")
    assert processor.run_once() == 2  # the Slack lookup, then the e-mail it queued
    assert fakes.slack.named("send_direct_message") == []
    [(to, subject, body)] = fakes.email.named("send")
    assert to == "mr_cakelover@gmail.com" and str(two_orders[0]) in subject
    ready = client.get(f"/orders/{two_orders[0]}").get_json()["ready"]
    assert (ready["channel"], ready["recipient"]) == ("email", "mr_cakelover@gmail.com")
    assert outbox("slack")[0]["result"]["fallback"] == "email"


def test_a_failing_api_keeps_the_action_and_retries_it_with_backoff(
    client, two_orders, processor, fakes, outbox, deps
) -> None:
    client.delete(f"/orders/{two_orders[0]}")
    fakes.drive.errors.append(IntegrationError("Drive answered 503", retryable=True))
    processor.run_once()
    [row] = outbox("drive")
    assert (row["state"], row["attempts"], row["last_error"]) == ("pending", 1, "Drive answered 503")
    assert row["next_attempt_at"] > row["updated_at"]  # not due again at once
    assert processor.run_once() == 0
    # Replay makes it due now; the API is back: done.
    assert client.post("/integrations/drive/replay").get_json() == {"name": "drive", "requeued": 1}
    assert processor.run_once() == 1
    [row] = outbox("drive")
    assert (row["state"], row["attempts"], row["result"]) == ("done", 2, {"file_id": "doc-1"})
    first_try, (slug, title, line) = fakes.drive.named("append_line")
    assert first_try == (slug, title, line)
    assert (slug, title) == ("mr_cakelover", "Mr. Cakelover cancelled orders")
    assert line.startswith(f"- Order {two_orders[0]} [Chocolate Cake] : Date ")


def test_a_refusal_that_retrying_cannot_change_fails_at_once_and_replay_revives_it(
    client, processor, fakes, outbox
) -> None:
    client.post("/employees", json={"firstName": "Jack", "lastName": "Harrot", "githubUsername": "jharrot",
                                    "permissions": {"developer": True}})  # fmt: skip
    fakes.github.errors.append(IntegrationError("GitHub answered 404: no such user", retryable=False))
    processor.run_once()
    assert outbox("github")[0]["state"] == "failed"
    states = {i["name"]: i for i in client.get("/integrations").get_json()["items"]}
    assert states["github"]["failed"] == 1
    assert states["github"]["last_result"]["error"] == "GitHub answered 404: no such user"
    client.post("/integrations/github/replay")
    processor.run_once()
    assert outbox("github")[0]["state"] == "done" and fakes.github.named("grant") == [("jharrot",), ("jharrot",)]


def test_after_its_last_attempt_an_action_is_failed(client, two_orders, processor, fakes, outbox, deps) -> None:
    from bakery_service.adapters import postgres as pg

    client.delete(f"/orders/{two_orders[0]}")
    fakes.drive.errors.extend(IntegrationError("timeout") for _ in range(deps.settings.integration_max_attempts))
    for _ in range(deps.settings.integration_max_attempts):
        with deps.store.begin() as conn:
            pg.replay(conn, "drive")  # due now, without waiting out the backoff
        processor.run_once()
    assert outbox("drive")[0]["state"] == "failed"
    assert outbox("drive")[0]["attempts"] == deps.settings.integration_max_attempts


def test_an_integration_without_credentials_keeps_its_actions_pending(
    client, two_orders, processor, fakes, outbox
) -> None:
    fakes.drive.configured = False
    client.delete(f"/orders/{two_orders[0]}")
    assert processor.run_once() == 0
    assert fakes.drive.calls == []
    [row] = outbox("drive")
    assert (row["state"], row["attempts"]) == ("pending", 0)
    drive = {i["name"]: i for i in client.get("/integrations").get_json()["items"]}["drive"]
    assert (drive["configured"], drive["pending"], drive["last_result"]) == (False, 1, None)
    # Credentials arrive (a restart with the secret): the action goes out.
    fakes.drive.configured = True
    assert processor.run_once() == 1 and outbox("drive")[0]["state"] == "done"


def test_not_configured_raised_mid_way_does_not_use_up_attempts(client, two_orders, processor, fakes, outbox) -> None:
    client.delete(f"/orders/{two_orders[0]}")
    fakes.drive.errors.append(NotConfigured("drive"))
    processor.run_once()
    row = outbox("drive")[0]
    assert row["state"] == "pending" and row["last_error"] == "drive is not configured"


def test_an_unexpected_client_error_is_retried_not_lost(client, two_orders, processor, fakes, outbox) -> None:
    client.delete(f"/orders/{two_orders[0]}")
    fakes.drive.errors.append(KeyError("id"))
    processor.run_once()
    row = outbox("drive")[0]
    assert row["state"] == "pending" and row["last_error"].startswith("KeyError")


def test_integrations_list_every_integration_and_no_credential(make_settings, client) -> None:
    body = client.get("/integrations")
    assert body.status_code == 200
    assert [i["name"] for i in body.get_json()["items"]] == ["jira", "slack", "email", "drive", "github"]
    assert client.post("/integrations/telegram/replay").status_code == 404
    assert "jira-webhook-test-secret" not in body.get_data(as_text=True)


def test_an_api_that_says_when_to_come_back_is_not_asked_sooner(client, two_orders, processor, fakes, outbox) -> None:
    client.delete(f"/orders/{two_orders[0]}")
    busy = IntegrationError("Drive answered 429", retryable=True)
    busy.retry_after = 300.0
    fakes.drive.errors.append(busy)
    processor.run_once()
    row = outbox("drive")[0]
    assert (row["next_attempt_at"] - row["updated_at"]).total_seconds() >= 299


def test_the_batch_command_runs_the_scheduled_batch_once_a_day(app, two_orders, outbox) -> None:
    # What the Kubernetes CronJob and the AWS schedule run: `flask --app bakery_service bakery run-batch`.
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bakery", "run-batch", "--date", "2026-11-30"])
    assert first.exit_code == 0, first.output
    assert f"takes orders {two_orders}" in first.output
    again = runner.invoke(args=["bakery", "run-batch", "--date", "2026-11-30"])
    assert again.exit_code == 0 and "nothing to batch" in again.output
    assert len(outbox("jira")) == 1


def _sample(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_backlog_gauges_follow_the_outbox(client, two_orders, processor, fakes) -> None:
    client.post("/batches/run")
    fakes.jira.configured = False
    processor.run_once()
    assert _sample("bakery_pending_actions", integration="jira") == 1
    assert _sample("bakery_oldest_pending_action_age_seconds", integration="jira") >= 0
    assert _sample("bakery_pending_actions", integration="slack") == 0
    fakes.jira.configured = True
    processor.run_once()
    assert _sample("bakery_pending_actions", integration="jira") == 0
    assert _sample("bakery_oldest_pending_action_age_seconds", integration="jira") == 0


def test_a_ready_notice_counts_as_a_notification_of_its_channel(client, two_orders, processor, fakes) -> None:
    before = _sample("bakery_notifications_total", channel="slack")
    fakes.slack.answers["find_user"] = "U0CAKE"
    client.post(f"/orders/{two_orders[0]}/ready")
    processor.run_once()
    assert _sample("bakery_notifications_total", channel="slack") - before == 1
