"""The daily batch (idempotent, once per scheduled day) and the outbox processor, on a real Postgres.

The outside-API clients are test doubles here: what is under test is the processor (claiming, settling,
retrying, the dead letter, holding a disabled integration's actions, checking state when the effect is
made, recording results on the orders), not the vendors' APIs (see test_fault_matrix.py for those).
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from bakery_service.adapters.integration_errors import IntegrationError, NotConfigured
from bakery_service.usecases.run_batch import run_batch

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE

pytestmark = pytest.mark.integration


@pytest.fixture()
def two_orders(client):
    client.post("/cakes", json=CHOCOLATE_CAKE)
    return [client.post("/orders", json=BRIEF_ORDER).get_json()["id"] for _ in range(2)]


def integration(client, name: str) -> dict:
    return {i["name"]: i for i in client.get("/integrations").get_json()["items"]}[name]


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
    threads = [
        threading.Thread(target=lambda: results.append(run_batch(deps.uow(), deps.settings.public_base_url)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r.orders) for r in results) == [0, 0, 0, 2]
    assert len(outbox("jira")) == 1


def test_the_scheduled_batch_runs_once_a_day(deps, client, two_orders, outbox) -> None:
    day = date(2026, 11, 30)
    assert run_batch(deps.uow(), deps.settings.public_base_url, "schedule", day).orders == two_orders
    third = client.post("/orders", json=BRIEF_ORDER).get_json()["id"]
    assert run_batch(deps.uow(), deps.settings.public_base_url, "schedule", day).orders == []
    assert run_batch(deps.uow(), deps.settings.public_base_url, "schedule", date(2026, 12, 1)).orders == [third]
    assert len(outbox("jira")) == 2


def test_the_run_batch_command_batches_a_day_once(app, client, two_orders, outbox) -> None:
    """`flask bakery run-batch`, as the CronJob runs it: the day's batch, then nothing more that day."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bakery", "run-batch", "--date", "2026-11-30"])
    assert first.exit_code == 0, first.output
    assert f"takes orders {two_orders}" in first.output
    client.post("/orders", json=BRIEF_ORDER)
    again = runner.invoke(args=["bakery", "run-batch", "--date", "2026-11-30"])
    assert again.exit_code == 0 and "nothing to batch" in again.output
    assert len(outbox("jira")) == 1


def test_actions_are_typed_and_carry_the_request_id(client, two_orders, outbox) -> None:
    client.post("/batches/run", headers={"X-Request-ID": "req-batch-1"})
    [row] = outbox("jira")
    assert row["type"] == "jira.create_ticket" and row["attributes"] == {"request_id": "req-batch-1"}
    assert set(row["payload"]) == {"batch_id", "label", "summary", "description", "due_date", "labels"}


def test_the_jira_action_records_the_ticket_on_every_order_of_the_batch(
    client, two_orders, processor, fakes, outbox
) -> None:
    client.post("/batches/run")
    assert processor.run_once() == 1
    [(summary, description, due, labels)] = fakes.jira.named("create_ticket")
    assert "2 orders" in summary and "| chocolate | 536 g |" in description and due is not None
    assert {client.get(f"/orders/{i}").get_json()["ticket_key"] for i in two_orders} == {"BAKE-1"}
    assert outbox("jira")[0]["state"] == "done" and outbox("jira")[0]["result"] == {"ticket_key": "BAKE-1"}
    assert fakes.jira.named("find_tickets_by_label") == [], "a first attempt has nothing to look for"


def test_after_an_attempt_that_may_have_created_the_ticket_it_is_looked_for_not_created_again(
    client, two_orders, processor, fakes, outbox
) -> None:
    client.post("/batches/run")
    # The call timed out after Jira had created the ticket.
    fakes.jira.errors.append(IntegrationError("Jira create ticket failed: ReadTimeout"))
    processor.run_once()
    assert outbox("jira")[0]["started_at"] is not None
    client.post("/integrations/jira/replay")
    fakes.jira.answers["find_tickets_by_label"] = ["BAKE-77"]
    processor.run_once()
    assert len(fakes.jira.named("create_ticket")) == 1
    assert fakes.jira.named("find_tickets_by_label") == [(outbox("jira")[0]["payload"]["label"],)]
    assert client.get(f"/orders/{two_orders[0]}").get_json()["ticket_key"] == "BAKE-77"


def test_a_lookup_that_finds_nothing_waits_out_the_search_lag_before_creating_again(
    make_settings, fakes, client, two_orders, outbox, deps
) -> None:
    from bakery_service.background.outbox_processor import OutboxProcessor

    settings = make_settings(integration_lookup_lag_seconds=30.0)
    processor = OutboxProcessor(deps.engine, fakes, settings, jitter=lambda: 1.0)
    client.post("/batches/run")
    fakes.jira.errors.append(IntegrationError("Jira create ticket failed: ReadTimeout"))
    processor.run_once()
    client.post("/integrations/jira/replay")
    processor.run_once()
    [row] = outbox("jira")
    assert row["state"] == "pending" and "looking again" in row["last_error"]
    assert row["attempts"] == 1, "waiting for the index is not a failed attempt"
    assert len(fakes.jira.named("create_ticket")) == 1


def test_ready_via_slack_records_channel_recipient_and_time(client, two_orders, processor, fakes) -> None:
    fakes.slack.answers["find_user"] = "U0CAKE"
    client.post(f"/orders/{two_orders[0]}/ready")
    processor.run_once()
    assert fakes.slack.named("find_user") == [("Mr. Cakelover",)]
    [(channel, text)] = fakes.slack.named("post_notice")
    assert channel == "D-U0CAKE" and f"#{two_orders[0]}" in text
    ready = client.get(f"/orders/{two_orders[0]}").get_json()["ready"]
    assert (ready["state"], ready["channel"], ready["recipient"]) == ("sent", "slack", "U0CAKE")
    assert ready["notified_at"]


def test_ready_falls_back_to_email_when_slack_does_not_know_the_customer(
    client, two_orders, processor, fakes, outbox
) -> None:
    fakes.slack.answers["find_user"] = None
    client.post(f"/orders/{two_orders[0]}/ready")
    assert processor.run_once() == 2  # the Slack lookup, then the e-mail it queued
    assert fakes.slack.named("post_notice") == []
    [(email,)] = fakes.email.named("send")
    assert email.to == "mr_cakelover@gmail.com" and str(two_orders[0]) in email.subject
    assert email.key == outbox("email")[0]["id"], "the Message-ID is made from the action's id"
    ready = client.get(f"/orders/{two_orders[0]}").get_json()["ready"]
    assert (ready["channel"], ready["recipient"]) == ("email", "mr_cakelover@gmail.com")
    assert outbox("slack")[0]["result"]["fallback"] == "email"


def test_no_ready_notice_for_an_order_cancelled_before_it_went_out(
    client, two_orders, processor, fakes, outbox
) -> None:
    fakes.slack.configured = False
    client.post(f"/orders/{two_orders[0]}/ready")
    client.delete(f"/orders/{two_orders[0]}")
    processor.run_once()
    assert fakes.email.named("send") == []
    assert outbox("email")[0]["result"] == {
        "skipped": f"order {two_orders[0]} was cancelled before its ready notice went out"
    }
    assert client.get(f"/orders/{two_orders[0]}").get_json()["ready"]["state"] == "pending"


def test_a_cancellation_after_the_notice_went_out_sends_one_correction(
    client, two_orders, processor, fakes, outbox
) -> None:
    fakes.slack.configured = False
    client.post(f"/orders/{two_orders[0]}/ready")
    processor.run_once()
    client.delete(f"/orders/{two_orders[0]}")
    client.delete(f"/orders/{two_orders[0]}")  # cancelling again changes nothing
    processor.run_once()
    ready, correction = (args[0] for args in fakes.email.named("send"))
    assert "ready" in ready.subject and "cancelled" in correction.subject and correction.to == ready.to
    assert [r["type"] for r in outbox("email")] == ["email.ready_notice", "email.cancelled_notice"]


def test_a_cancellation_while_the_notice_is_being_sent_is_followed_by_a_correction(
    client, two_orders, processor, fakes, outbox
) -> None:
    fakes.slack.configured = False
    client.post(f"/orders/{two_orders[0]}/ready")

    def cancelled_meanwhile(email):  # the order is cancelled while the e-mail is on its way
        if "ready" in email.subject:
            assert client.delete(f"/orders/{two_orders[0]}").status_code == 200
        return "<sent@bakery.example>"

    fakes.email.answers["send"] = cancelled_meanwhile
    processor.run_once()
    subjects = [args[0].subject for args in fakes.email.named("send")]
    assert subjects == [f"Your order #{two_orders[0]} is ready", f"Your order #{two_orders[0]} was cancelled"]


def test_no_ticket_for_a_batch_whose_orders_were_all_cancelled_since(
    client, two_orders, processor, fakes, outbox
) -> None:
    client.post("/batches/run")
    for order_id in two_orders:
        client.delete(f"/orders/{order_id}")
    fakes.drive.configured = False
    processor.run_once()
    assert fakes.jira.named("create_ticket") == []
    assert outbox("jira")[0]["result"]["skipped"].startswith("every order of batch")


def test_github_access_follows_the_employee_as_they_are_when_it_is_granted(client, processor, fakes, outbox) -> None:
    hired = client.post("/employees", json={"firstName": "Jack", "lastName": "Harrot", "githubUsername": "jharrot",
                                            "permissions": {"developer": True}}).get_json()  # fmt: skip
    client.patch(f"/employees/{hired['id']}", json={"permissions": {"developer": False}})
    processor.run_once()
    # Granted then revoked before anything went out: the grant is not made, the revoke is.
    assert fakes.github.named("grant") == [] and fakes.github.named("revoke") == [("jharrot",)]
    assert outbox("github")[0]["result"] == {"skipped": "no developer has the GitHub account jharrot any more"}


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
    assert (row["state"], row["attempts"], row["result"]) == ("done", 2, {"file_id": "doc-1", "written": True})
    [(document_id, title, line, text)] = fakes.drive.named("append_line")
    assert (document_id, title) == ("doc-1", "Mr. Cakelover cancelled orders")
    assert line.startswith(f"- Order {two_orders[0]} [Chocolate Cake] : Date ")


def test_a_refusal_goes_to_the_dead_letter_shown_on_integrations_and_replayed_by_id(
    client, processor, fakes, outbox
) -> None:
    client.post("/employees", json={"firstName": "Jack", "lastName": "Harrot", "githubUsername": "jharrot",
                                    "permissions": {"developer": True}})  # fmt: skip
    client.post("/employees", json={"firstName": "Ann", "lastName": "Lee", "githubUsername": "annlee",
                                    "permissions": {"developer": True}})  # fmt: skip
    fakes.github.errors.append(IntegrationError("GitHub answered 404: no such user", retryable=False))
    assert processor.run_once() == 2
    assert [r["state"] for r in outbox("github")] == ["dead", "done"], "the poison row holds up nothing"
    github = integration(client, "github")
    assert github["failed"] == 1 and github["last_result"]["state"] in ("failed", "done")
    [dead] = github["dead_letters"]
    assert (dead["action"], dead["error"], dead["payload"]["username"]) == (
        "grant",
        "GitHub answered 404: no such user",
        "jharrot",
    )
    replayed = client.post(f"/integrations/actions/{dead['id']}/replay")
    assert replayed.get_json() == {"id": dead["id"], "integration": "github", "action": "grant", "requeued": True}
    processor.run_once()
    assert outbox("github")[0]["state"] == "done" and fakes.github.named("grant").count(("jharrot",)) == 2
    assert client.post(f"/integrations/actions/{dead['id']}/replay").status_code == 404  # done: nothing to replay
    assert client.post("/integrations/actions/not-an-id/replay").status_code == 404


def test_after_its_last_attempt_an_action_is_in_the_dead_letter(
    client, two_orders, processor, fakes, outbox, deps
) -> None:
    from jobs.outbox import Outbox

    client.delete(f"/orders/{two_orders[0]}")
    fakes.drive.errors.extend(IntegrationError("timeout") for _ in range(deps.settings.integration_max_attempts))
    for _ in range(deps.settings.integration_max_attempts):
        Outbox(deps.engine, "bakery").replay_channel("drive")  # due now, without waiting out the backoff
        processor.run_once()
    [row] = outbox("drive")
    assert row["state"] == "dead" and row["attempts"] == deps.settings.integration_max_attempts


def test_a_disabled_integration_holds_its_actions_apart_and_sends_them_once_configured(
    client, two_orders, processor, fakes, outbox
) -> None:
    fakes.drive.configured = False
    client.delete(f"/orders/{two_orders[0]}")
    drive = integration(client, "drive")
    assert (drive["status"], drive["pending"], drive["held"]) == ("disabled", 0, 1)
    assert processor.run_once() == 0
    assert fakes.drive.calls == []
    [row] = outbox("drive")
    assert (row["state"], row["attempts"]) == ("held", 0)
    drive = integration(client, "drive")
    assert (drive["configured"], drive["pending"], drive["held"], drive["last_result"]) == (False, 0, 1, None)
    # Credentials arrive (a restart with the secret): the action goes out.
    fakes.drive.configured = True
    assert processor.run_once() == 1 and outbox("drive")[0]["state"] == "done"


def test_not_configured_raised_mid_way_does_not_use_up_attempts(client, two_orders, processor, fakes, outbox) -> None:
    client.delete(f"/orders/{two_orders[0]}")
    fakes.drive.errors.append(NotConfigured("drive"))
    processor.run_once()
    row = outbox("drive")[0]
    assert (row["state"], row["attempts"], row["last_error"]) == ("pending", 0, "drive is not configured")


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
    fakes.drive.errors.append(IntegrationError("Drive answered 429", throttled=True, retry_after=300.0))
    processor.run_once()
    row = outbox("drive")[0]
    assert (row["next_attempt_at"] - row["updated_at"]).total_seconds() >= 299
    assert row["attempts"] == 0, "being rate limited is not the action's failure"
