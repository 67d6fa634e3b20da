"""Jira's webhook: a ticket closed with the label ``missing-ingredients`` cancels the orders on it.

The body is trusted only when its HMAC-SHA256 under the shared secret matches ``X-Hub-Signature``
(``sha256=<hex>``), computed over the raw bytes as received. Any other header (missing, another scheme, not
64 hexadecimal digits, non-ASCII, repeated parts) is refused the same way: 401, never an error of ours.
Cancelling is what DELETE /orders/<id> does, and an order already cancelled stays as it is, so a redelivered
webhook changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from .adapters import postgres as pg
from .adapters.postgres import BakeryStore
from .domain.errors import Invalid, Unauthorized
from .domain.models import WebhookResult
from .metrics import WEBHOOKS
from .orders import cancel_locked
from .settings import Settings

MISSING_INGREDIENTS = "missing-ingredients"
CLOSED_STATUSES = {"closed", "done", "resolved"}
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def verify_signature(secret: str | None, body: bytes, header: str | None) -> None:
    if not secret:
        raise Unauthorized("The Jira webhook secret is not configured (JIRA_WEBHOOK_SECRET); deliveries are refused.")
    scheme, _, given = (header or "").partition("=")
    given = given.strip().lower()
    # Checked for shape first: compare_digest refuses non-ASCII text with a TypeError.
    well_formed = scheme.strip().lower() == "sha256" and _HEX_DIGEST.fullmatch(given) is not None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not well_formed or not hmac.compare_digest(given.encode("ascii"), expected.encode("ascii")):
        raise Unauthorized("The X-Hub-Signature header is missing or does not match the body.")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def closed_with_missing_ingredients(issue: dict[str, Any]) -> bool:
    fields = _object(issue.get("fields"))
    status = _object(fields.get("status"))
    category = _object(status.get("statusCategory")).get("key")
    closed = category == "done" or str(status.get("name", "")).lower() in CLOSED_STATUSES
    labels = fields.get("labels")
    return closed and isinstance(labels, list) and MISSING_INGREDIENTS in labels


def handle_jira_webhook(store: BakeryStore, settings: Settings, body: bytes, signature: str | None) -> WebhookResult:
    secret = settings.jira_webhook_secret.get_secret_value() if settings.jira_webhook_secret else None
    try:
        verify_signature(secret, body, signature)
    except Unauthorized:
        WEBHOOKS.labels("unauthorized").inc()
        raise
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        raise Invalid("The webhook body is not JSON.") from None
    issue = event.get("issue") if isinstance(event, dict) else None
    key = issue.get("key") if isinstance(issue, dict) else None
    if not isinstance(key, str) or not key:
        raise Invalid("The webhook has no issue key (issue.key).")
    if not closed_with_missing_ingredients(issue):
        WEBHOOKS.labels("ignored").inc()
        return WebhookResult(ticket_key=key, cancelled=[])
    cancelled = []
    with store.begin() as conn:
        for row in pg.orders_on_ticket(conn, key):
            if row["state"] != "cancelled":
                cancel_locked(conn, row)
                cancelled.append(row["id"])
    WEBHOOKS.labels("cancelled" if cancelled else "no_change").inc()
    return WebhookResult(ticket_key=key, cancelled=cancelled)
