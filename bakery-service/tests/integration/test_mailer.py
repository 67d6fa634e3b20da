"""Mailer against real SMTP servers: MailDev 3 (the inbox the local stack runs too) and, for the replies MailDev
never gives (temporary and permanent refusals, a server that never greets), aiosmtpd and a bare socket."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from bakery_service.adapters.integration_errors import IntegrationError, NotConfigured
from bakery_service.adapters.mailer import Mailer, OutgoingEmail
from bakery_service.settings import Settings
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from testkit.maildev import start_maildev, stop_maildev
from testkit.servers import free_port

from .fakes import assert_secret_hidden, capture_everything

pytestmark = pytest.mark.integration

TO = "mr_cakelover@gmail.com"


def settings(**overrides) -> Settings:
    return Settings(jwt_secret="s" * 64, database_url="postgresql://unused/none", **overrides)


def email(subject: str, text: str, *, key: str = "5f0c2a9e-action", request_id: str | None = None) -> OutgoingEmail:
    return OutgoingEmail(TO, subject, text, f"<p>{text}</p>", key=key, request_id=request_id)


def test_a_message_reaches_the_inbox(maildev, caplog) -> None:
    capture_everything(caplog)
    mailer = Mailer(settings(smtp_host=maildev.smtp_host, smtp_port=maildev.smtp_port, smtp_from="bakery@example.com"))
    assert mailer.configured
    message_id = mailer.send(
        email("Your order 21 is ready", "Hello Mr Cakelover,\n\nYour Chocolate Cake is ready.", request_id="req-21")
    )

    [received] = maildev.wait_for(TO)
    assert received["subject"] == "Your order 21 is ready"
    assert received["from"][0] == {"address": "bakery@example.com", "name": "The Bakery"}
    assert "Your Chocolate Cake is ready." in received["text"]
    assert "Your Chocolate Cake is ready." in received["html"]
    assert received["headers"]["message-id"] == message_id == "<5f0c2a9e-action@example.com>"
    assert received["headers"]["x-request-id"] == "req-21"


def test_the_ready_email_is_dated_named_and_says_where_and_when_to_collect(tmp_path) -> None:
    from email import message_from_bytes, policy
    from email.utils import parsedate_to_datetime

    from bakery_service.domain.messages import Pickup, ready_email

    configured = settings(smtp_host="127.0.0.1", bakery_name="Chez Léa", smtp_from="orders@lea.example")
    letter = ready_email(
        "Mr Cakelover", 21, "Chocolate Cake", Pickup("Chez Léa", "3 Rue du Four, Paris", "8:00 to 18:00")
    )
    message = Mailer(configured).compose(
        OutgoingEmail(TO, letter.subject, letter.text, letter.html, key="abc", request_id="req-1")
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert str(parsed["From"]) == "Chez Léa <orders@lea.example>"
    assert parsed["Message-ID"] == "<abc@lea.example>" and parsed["X-Request-ID"] == "req-1"
    assert abs((parsedate_to_datetime(parsed["Date"]) - datetime.now(UTC)).total_seconds()) < 60
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    for part in (text, html):
        assert "3 Rue du Four, Paris" in part and "8:00 to 18:00" in part and "#21" in part and "Chocolate Cake" in part
    assert "<p>" in html and "<p>" not in text


def test_not_configured_without_a_host() -> None:
    mailer = Mailer(settings())
    assert not mailer.configured
    with pytest.raises(NotConfigured) as caught:
        mailer.send(email("s", "b"))
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
    mailer.send(email("Logged in", "body"))
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
        mailer.send(email("s", "b"))
    assert not caught.value.retryable
    assert "535" in str(caught.value)
    assert_secret_hidden("wr0ng-pw", caplog, caught.value)


def test_no_server_listening_is_retryable() -> None:
    with pytest.raises(IntegrationError) as caught:
        Mailer(settings(smtp_host="127.0.0.1", smtp_port=free_port())).send(email("s", "b"))
    assert caught.value.retryable


def test_a_server_that_never_answers_is_a_retryable_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(IntegrationError) as caught:
            Mailer(settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=0.3)).send(email("s", "b"))
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
            Mailer(settings(smtp_host="127.0.0.1", smtp_port=controller.port)).send(email("s", "b"))
    finally:
        controller.stop()
    assert caught.value.retryable is retryable
    assert reply[:3] in str(caught.value)
    assert not handler.delivered.is_set()


@pytest.fixture()
def tls_certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted by the process (SSL_CERT_FILE) like a real CA's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    return cert_file, key_file


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((session.authenticated, envelope.rcpt_tos))
        return "250 OK"


def test_starttls_then_login(tls_certificate, caplog) -> None:
    capture_everything(caplog)
    cert_file, key_file = tls_certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"baker", b"tl5-5ecr3t"))

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    try:
        configured = settings(
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_starttls=True,
            smtp_username="baker",
            smtp_password="tl5-5ecr3t",
        )
        Mailer(configured).send(email("Over TLS", "body"))
        without_tls = configured.model_copy(update={"smtp_starttls": False})
        with pytest.raises(IntegrationError) as caught:
            Mailer(without_tls).send(email("In clear", "body"))
    finally:
        controller.stop()
    assert inbox.messages == [(True, [TO])]
    assert not caught.value.retryable  # AUTH is offered only after STARTTLS: the settings must change
    assert_secret_hidden("tl5-5ecr3t", caplog, caught.value)
