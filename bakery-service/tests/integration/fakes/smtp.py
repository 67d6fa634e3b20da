"""An SMTP server (aiosmtpd, over a real socket) that keeps every message it accepted and a mailbox view of
them, and misbehaves as its ``faults`` say: a 421 "try later" (SMTP's 429), a 451 (a passing server error),
a 550 for one recipient for good, or a message taken and its reply stalled past the client's timeout.

The mailbox keeps one message per ``Message-ID``, as Gmail and other providers do with a copy sent again:
``received`` is what came over the wire, ``mailbox(to)`` what the customer sees.
"""

from __future__ import annotations

import asyncio
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from testkit.faults import Faults
from testkit.servers import free_port


class FakeSMTP:
    def __init__(self) -> None:
        self.faults = Faults()
        self.received: list[EmailMessage] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> FakeSMTP:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def mailbox(self, to: str) -> list[EmailMessage]:
        """What ``to`` sees: one message per Message-ID."""
        seen: dict[str, EmailMessage] = {}
        with self._lock:
            for message in self.received:
                if to in str(message["To"]):
                    seen.setdefault(str(message["Message-ID"]), message)
        return list(seen.values())

    def copies_to(self, to: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.received if to in str(m["To"])]

    # -- aiosmtpd hooks ------------------------------------------------------------------------------
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if self.faults.refuses(address):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.faults.throttles():
            return "421 4.7.0 Too many messages, try again later"
        if self.faults.fails():
            return "451 4.3.0 Local error in processing"
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.received.append(message)
        if self.faults._take("timeouts_after_acting"):
            await asyncio.sleep(self.faults.stall_seconds)
        return "250 OK"
