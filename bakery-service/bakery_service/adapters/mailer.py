"""E-mail over SMTP with the standard library (STARTTLS and login when configured).

Each message is one action's: its ``Message-ID`` is made from the action's id, so a copy sent again after
an attempt that timed out once the server had taken the message carries the same ``Message-ID`` as the
first, and mailbox providers (Gmail among them) keep one message per ``Message-ID``. SMTP itself has no
idempotency: that header is the only once-only mechanism a sender has.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from ..settings import Settings
from .integration_errors import IntegrationError, NotConfigured, setting

log = logging.getLogger(__name__)

INTEGRATION = "email"


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str
    #: Unique to the action that sends it: the left part of the Message-ID.
    key: str
    request_id: str | None = None


def _failure(exc: Exception) -> IntegrationError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        # 4xx replies are transient by the SMTP standard (RFC 5321 §4.2.1), 5xx permanent; 421 and 450-452 are
        # how servers say "too many, come back later".
        retryable = all(400 <= code < 500 for code in codes)
        return IntegrationError(f"SMTP refused the recipients: {codes}", retryable=retryable)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # The server lacks what the settings ask for (AUTH without STARTTLS, STARTTLS itself): fix the settings.
        return IntegrationError(f"SMTP failed: {exc}", retryable=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        retryable = 400 <= code < 500
        return IntegrationError(f"SMTP failed: {code} {type(exc).__name__}", retryable=retryable, throttled=code == 421)
    # Disconnected, refused connection, timeout, TLS handshake: the server may answer later.
    return IntegrationError(f"SMTP failed: {type(exc).__name__}: {exc}", retryable=True)


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def configured(self) -> bool:
        return bool(self._settings.smtp_host)

    def message_id(self, key: str) -> str:
        domain = self._settings.smtp_from.rpartition("@")[2] or "bakery.invalid"
        return f"<{key}@{domain}>"

    def compose(self, email: OutgoingEmail) -> EmailMessage:
        """The message as it is sent: plain text and HTML alternatives, dated, from the bakery by name."""
        s = self._settings
        message = EmailMessage()
        message["From"] = formataddr((s.bakery_name, s.smtp_from))
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = self.message_id(email.key)
        if email.request_id:
            message["X-Request-ID"] = email.request_id
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    def send(self, email: OutgoingEmail) -> str:
        """Send the message; returns its Message-ID."""
        s = self._settings
        if not self.configured:
            raise NotConfigured(INTEGRATION)
        message = self.compose(email)
        try:
            with smtplib.SMTP(setting(s.smtp_host, INTEGRATION), s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username:
                    password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                    smtp.login(s.smtp_username, password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise _failure(exc) from None
        message_id: str = message["Message-ID"]
        log.info("e-mail sent", extra={"mail_to": email.to, "message_id": message_id})
        return message_id
