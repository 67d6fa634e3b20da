"""E-mail over SMTP with the standard library (STARTTLS and login when configured)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from ..settings import Settings
from .integration_errors import IntegrationError, NotConfigured

log = logging.getLogger(__name__)

INTEGRATION = "email"


def _failure(exc: Exception) -> IntegrationError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        # 4xx replies are transient by the SMTP standard (RFC 5321 §4.2.1), 5xx permanent.
        retryable = all(400 <= code < 500 for code in codes)
        return IntegrationError(f"SMTP refused the recipients: {codes}", retryable=retryable)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # The server lacks what the settings ask for (AUTH without STARTTLS, STARTTLS itself): fix the settings.
        return IntegrationError(f"SMTP failed: {exc}", retryable=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        retryable = 400 <= code < 500
        return IntegrationError(f"SMTP failed: {code} {type(exc).__name__}", retryable=retryable)
    # Disconnected, refused connection, timeout, TLS handshake: the server may answer later.
    return IntegrationError(f"SMTP failed: {type(exc).__name__}: {exc}", retryable=True)


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def configured(self) -> bool:
        return bool(self._settings.smtp_host)

    def send(self, to: str, subject: str, body: str) -> str:
        """Send a plain-text message; returns its Message-ID."""
        s = self._settings
        if not self.configured:
            raise NotConfigured(INTEGRATION)
        message = EmailMessage()
        message["From"] = s.smtp_from
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=s.smtp_from.rpartition("@")[2] or None)
        message.set_content(body)
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username:
                    password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                    smtp.login(s.smtp_username, password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise _failure(exc) from None
        log.info("e-mail sent", extra={"mail_to": to, "message_id": message["Message-ID"]})
        return message["Message-ID"]
