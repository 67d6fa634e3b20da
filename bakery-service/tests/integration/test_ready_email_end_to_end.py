"""The ready notice by e-mail end to end: the real wiring and SMTP client, a real SMTP server (MailDev) that
is first down, then back. Nothing is lost: the e-mail arrives once, after the outage (R8)."""

from __future__ import annotations

import pytest

# The SMTP client and the MailDev fixture belong to the integration clients' part of the service.
from testkit.servers import free_port  # noqa: E402

from ..conftest import BRIEF_ORDER, CHOCOLATE_CAKE  # noqa: E402

pytestmark = pytest.mark.integration


def test_the_email_waits_out_an_smtp_outage_and_arrives_once(make_settings, maildev) -> None:
    from bakery_service import create_app
    from bakery_service.background.outbox_processor import OutboxProcessor
    from bakery_service.wiring import build_dependencies
    from servicekit import issue_token

    down = make_settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout_seconds=2.0)
    up = make_settings(smtp_host=maildev.smtp_host, smtp_port=maildev.smtp_port)
    deps_down, deps_up = build_dependencies(down), build_dependencies(up)
    client = create_app(down, deps_down).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(down, 'baker')[0]}"
    client.post("/cakes", json=CHOCOLATE_CAKE)
    order = client.post("/orders", json={**BRIEF_ORDER, "customer": "Mr Cakelover"}).get_json()
    client.post(f"/orders/{order['id']}/ready")

    OutboxProcessor(deps_down.engine, deps_down.clients, down).run_once()
    email = {i["name"]: i for i in client.get("/integrations").get_json()["items"]}["email"]
    assert (email["pending"], email["last_result"]["state"]) == (1, "pending") and email["last_result"]["error"]
    assert client.get(f"/orders/{order['id']}").get_json()["ready"]["state"] == "pending"

    assert client.post("/integrations/email/replay").get_json()["requeued"] == 1
    assert OutboxProcessor(deps_up.engine, deps_up.clients, up).run_once() == 1
    [message] = maildev.wait_for("mr_cakelover@gmail.com")
    assert message["subject"] == f"Your order #{order['id']} is ready"
    ready = client.get(f"/orders/{order['id']}").get_json()["ready"]
    assert (ready["state"], ready["channel"], ready["recipient"]) == ("sent", "email", "mr_cakelover@gmail.com")
    assert OutboxProcessor(deps_up.engine, deps_up.clients, up).run_once() == 0
    assert len(maildev.messages_to("mr_cakelover@gmail.com")) == 1
    for deps in (deps_down, deps_up):
        deps.engine.dispose()
