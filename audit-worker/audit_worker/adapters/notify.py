"""Driver notifications: a log line and a metric always, an e-mail when SMTP is configured."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..metrics import NOTIFICATIONS
from ..settings import Settings

log = logging.getLogger("audit_worker.notify")


class Notifier:
    def __init__(
        self,
        smtp_host: str | None = None,
        smtp_port: int = 25,
        *,
        sender: str,
        recipient: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port
        self.sender = sender
        self.recipient = recipient
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.notify_email_from,
            recipient=settings.notify_email_to,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
        )

    def notify(
        self, event_type: str, driver_id: str, load_id: str, subject: str, body: str, request_id: str | None = None
    ) -> None:
        """Raises when the e-mail could not be handed over, so that the event is redelivered. ``request_id``
        (the fleet-api request that caused the event) goes into the message's ``X-Request-ID`` header."""
        log.info(
            "driver notified: %s", subject, extra={"event_type": event_type, "driver_id": driver_id, "load_id": load_id}
        )
        NOTIFICATIONS.labels(event_type, "log").inc()
        if not self.smtp_host:
            return
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = self.recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        if request_id:
            message["X-Request-ID"] = request_id
        message.set_content(body)
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
        NOTIFICATIONS.labels(event_type, "email").inc()
