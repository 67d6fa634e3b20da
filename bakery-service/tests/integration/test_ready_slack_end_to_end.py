"""The ready notice end to end with the real wiring and clients: Slack's Web API (a local fake over HTTP) for a
customer the bakery's Slack knows, e-mail through a real SMTP server (MailDev) for one it does not."""

from __future__ import annotations

import pytest

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE  # noqa: E402
from .fakes.slack import FakeSlack, member  # noqa: E402

pytestmark = pytest.mark.integration
SLACK_TOKEN = "xoxb-bakery-test-token"


def two_orders(settings):
    """The app with its real wiring, a baker's client, and two orders: one by a customer the bakery's Slack
    knows (Mr Cakelover), one by a customer it does not (Ms Delicious)."""
    from bakery_service import create_app
    from bakery_service.wiring import build_dependencies
    from servicekit import issue_token

    deps = build_dependencies(settings)
    client = create_app(settings, deps).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(settings, 'baker')[0]}"
    client.post("/cakes", json=CHOCOLATE_CAKE)
    known = client.post("/orders", json={**BRIEF_ORDER, "customer": "Mr Cakelover"}).get_json()
    unknown = client.post("/orders", json={**BRIEF_ORDER, "customer": "Ms Delicious"}).get_json()
    return deps, client, known, unknown


def test_slack_first_then_email(make_settings, httpserver, maildev) -> None:
    from bakery_service.background.outbox_processor import OutboxProcessor

    slack = FakeSlack(httpserver, token=SLACK_TOKEN, members=[member("U0CAKE", "cakelover", real_name="Mr Cakelover")])
    settings = make_settings(
        slack_bot_token=SLACK_TOKEN,
        slack_api_url=slack.url,
        smtp_host=maildev.smtp_host,
        smtp_port=maildev.smtp_port,
    )
    deps, client, known, unknown = two_orders(settings)
    client.post(f"/orders/{known['id']}/ready")
    client.post(f"/orders/{unknown['id']}/ready")
    processor = OutboxProcessor(deps.engine, deps.clients, settings)
    assert processor.run_once() == 3  # two Slack look-ups, then the e-mail the second one queued

    [message] = slack.messages
    assert message["channel"] == slack.channels["U0CAKE"] and f"#{known['id']}" in message["text"]
    assert message["metadata"]["event_payload"]["order_id"] == known["id"]
    ready = client.get(f"/orders/{known['id']}").get_json()["ready"]
    assert (ready["state"], ready["channel"], ready["recipient"]) == ("sent", "slack", "U0CAKE")

    [mail] = maildev.wait_for("ms_delicious@gmail.com")
    assert mail["subject"] == f"Your order #{unknown['id']} is ready"
    ready = client.get(f"/orders/{unknown['id']}").get_json()["ready"]
    assert (ready["state"], ready["channel"], ready["recipient"]) == ("sent", "email", "ms_delicious@gmail.com")
    assert maildev.messages_to("mr_cakelover@gmail.com") == []
    deps.engine.dispose()


def test_the_processor_logs_each_action_with_the_id_of_the_request_that_caused_it(
    make_settings, httpserver, tmp_path
) -> None:
    import json

    import sqlalchemy as sa
    from bakery_service.background.outbox_processor import OutboxProcessor

    slack = FakeSlack(httpserver, token=SLACK_TOKEN, members=[member("U0CAKE", "cakelover", real_name="Mr Cakelover")])
    # No SMTP: the e-mail fallback is held, and its row shows whose request it belongs to.
    settings = make_settings(slack_bot_token=SLACK_TOKEN, slack_api_url=slack.url, log_dir=tmp_path / "logs")
    deps, client, known, unknown = two_orders(settings)
    client.post(f"/orders/{known['id']}/ready", headers={"X-Request-ID": "req-ready-known"})
    client.post(f"/orders/{unknown['id']}/ready", headers={"X-Request-ID": "req-ready-unknown"})
    assert OutboxProcessor(deps.engine, deps.clients, settings).run_once() == 2

    with deps.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT channel, attributes->>'request_id' FROM bakery.job_outbox "
                "WHERE attributes->>'request_id' LIKE 'req-ready-%' ORDER BY seq"
            )
        ).all()
    # The e-mail the Slack look-up queued for the unknown customer belongs to that customer's request.
    assert [tuple(r) for r in rows] == [
        ("slack", "req-ready-known"),
        ("slack", "req-ready-unknown"),
        ("email", "req-ready-unknown"),
    ]
    lines = [json.loads(line) for line in (tmp_path / "logs" / "bakery-service.log").read_text().splitlines()]
    done = {x["request_id"]: x["message"] for x in lines if x.get("action_type") == "slack.ready_notice"}
    assert done == {
        "req-ready-known": "outside action done: slack.ready_notice",
        "req-ready-unknown": "outside action done: slack.ready_notice",
    }
    assert [x["request_id"] for x in lines if x["message"] == "slack message posted"] == ["req-ready-known"]
    deps.engine.dispose()
