"""A stand-in for Mailpit (compose's SMTP sink) where no Mailpit can run: real SMTP in, Mailpit's inbox API out.

SMTP is aiosmtpd's real server. The web side answers what Mailpit's API documents for the message list,
`GET /api/v1/messages` (newest first, with `total`, `messages_count` and each message's `To` as
`{"Name", "Address"}`), and 404 for anything else, MailDev's `/api/email` included, as Mailpit does.
It records every request path, so a test can ask whether the inbox was really looked at.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
import uuid
from datetime import UTC, datetime
from email.utils import getaddresses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


class FakeMailpit:
    def __init__(self, web_port: int, smtp_port: int, host: str = "127.0.0.1") -> None:
        self.host, self.web_port, self.smtp_port = host, web_port, smtp_port
        self.messages: list[dict] = []
        self.requests: list[str] = []
        self._lock = threading.Lock()

    # -- SMTP --------------------------------------------------------------------------------------------
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's handler name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        to = [{"Name": name, "Address": address} for name, address in getaddresses(parsed.get_all("To", []))]
        name, address = getaddresses([parsed.get("From", "")])[0]
        body = parsed.get_body(preferencelist=("plain", "html"))
        with self._lock:
            self.messages.insert(
                0,
                {
                    "ID": uuid.uuid4().hex[:22],
                    "MessageID": parsed.get("Message-ID", ""),
                    "Read": False,
                    "From": {"Name": name, "Address": address},
                    "To": to,
                    "Cc": [],
                    "Bcc": [],
                    "ReplyTo": [],
                    "Subject": parsed.get("Subject", ""),
                    "Created": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "Tags": [],
                    "Size": len(envelope.content),
                    "Attachments": 0,
                    "Snippet": (body.get_content() if body else "")[:250],
                },
            )
        return "250 Message accepted for delivery"

    # -- web ---------------------------------------------------------------------------------------------
    def _handler(self):
        mailpit = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                mailpit.requests.append(self.path)
                if self.path.split("?")[0] != "/api/v1/messages":
                    self.send_error(404, "Not Found")
                    return
                with mailpit._lock:
                    messages = list(mailpit.messages)
                body = json.dumps(
                    {
                        "total": len(messages),
                        "unread": sum(not m["Read"] for m in messages),
                        "count": len(messages),
                        "messages_count": len(messages),
                        "start": 0,
                        "tags": [],
                        "messages": messages[:50],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def __enter__(self) -> FakeMailpit:
        self._smtp = Controller(self, hostname=self.host, port=self.smtp_port)
        self._smtp.start()
        self._web = ThreadingHTTPServer((self.host, self.web_port), self._handler())
        threading.Thread(target=self._web.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._web.shutdown()
        self._web.server_close()
        self._smtp.stop()
