"""Mailer against real SMTP servers: MailDev 3 (the inbox the local stack runs too) and, for the replies MailDev
never gives (temporary and permanent refusals, a server that never greets), aiosmtpd and a bare socket."""

from __future__ import annotations

import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from bakery_service.adapters.integration_errors import IntegrationError, NotConfigured
from bakery_service.adapters.mailer import Mailer
from bakery_service.settings import Settings
from testkit.maildev import start_maildev, stop_maildev
from testkit.servers import free_port

from .fakes import assert_secret_hidden, capture_everything

pytestmark = pytest.mark.integration

TO = "mr_cakelover@gmail.com"


def settings(**overrides) -> Settings:
    return Settings(jwt_secret="s" * 64, database_url="postgresql://unused/none", **overrides)


def test_a_message_reaches_the_inbox(maildev, caplog) -> None:
    capture_everything(caplog)
    mailer = Mailer(settings(smtp_host=maildev.smtp_host, smtp_port=maildev.smtp_port, smtp_from="bakery@example.com"))
    assert mailer.configured
    message_id = mailer.send(TO, "Your order 21 is ready", "Hello Mr Cakelover,\n\nYour Chocolate Cake is ready.")

    [received] = maildev.wait_for(TO)
    assert received["subject"] == "Your order 21 is ready"
    assert received["from"][0]["address"] == "bakery@example.com"
    assert "Your Chocolate Cake is ready." in received["text"]
    assert received["headers"]["message-id"] == message_id


def test_not_configured_without_a_host() -> None:
    mailer = Mailer(settings())
    assert not mailer.configured
    with pytest.raises(NotConfigured) as caught:
        mailer.send(TO, "s", "b")
    assert caught.value.retryable


@pytest.fixture(scope="module")
def authenticating_maildev(maildev_binary_path):
    proc, server = start_maildev(maildev_binary_path, "--incoming-user", "baker", "--incoming-pass", "sm7p-5ecr3t")
    yield server
    stop_maildev(proc, server)


def test_login_when_a_username_is_set(authenticating_maildev, caplog) -> None:
    capture_everything(caplog)
    server = authenticating_maildev
    mailer = Mailer(
        settings(
            smtp_host=server.smtp_host, smtp_port=server.smtp_port, smtp_username="baker", smtp_password="sm7p-5ecr3t"
        )
    )
    mailer.send(TO, "Logged in", "body")
    assert [m["subject"] for m in server.wait_for(TO)] == ["Logged in"]
    assert_secret_hidden("sm7p-5ecr3t", caplog)


def test_a_wrong_password_is_not_retryable_and_not_shown(authenticating_maildev, caplog) -> None:
    capture_everything(caplog)
    server = authenticating_maildev
    mailer = Mailer(
        settings(
            smtp_host=server.smtp_host, smtp_port=server.smtp_port, smtp_username="baker", smtp_password="wr0ng-pw"
        )
    )
    with pytest.raises(IntegrationError) as caught:
        mailer.send(TO, "s", "b")
    assert not caught.value.retryable
    assert "535" in str(caught.value)
    assert_secret_hidden("wr0ng-pw", caplog, caught.value)


def test_no_server_listening_is_retryable() -> None:
    with pytest.raises(IntegrationError) as caught:
        Mailer(settings(smtp_host="127.0.0.1", smtp_port=free_port())).send(TO, "s", "b")
    assert caught.value.retryable


def test_a_server_that_never_answers_is_a_retryable_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(IntegrationError) as caught:
            Mailer(settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=0.3)).send(TO, "s", "b")
    assert caught.value.retryable
    assert "timed out" in str(caught.value)


class Refusing:
    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.delivered = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's hook name)
        return self.reply

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.delivered.set()
        return "250 OK"


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [("451 4.3.0 Mailbox busy, try later", True), ("550 5.1.1 No such user", False)],
)
def test_a_refused_recipient_is_retryable_only_when_the_refusal_is_temporary(reply, retryable) -> None:
    handler = Refusing(reply)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with pytest.raises(IntegrationError) as caught:
            Mailer(settings(smtp_host="127.0.0.1", smtp_port=controller.port)).send(TO, "s", "b")
    finally:
        controller.stop()
    assert caught.value.retryable is retryable
    assert reply[:3] in str(caught.value)
    assert not handler.delivered.is_set()
