"""Jira's webhook: a ticket closed with the label ``missing-ingredients`` cancels the orders on it.

Only a body signed with the shared secret is read (domain/jira_events.py). Cancelling is what
DELETE /orders/<id> does, and an order already cancelled stays as it is, so a redelivered webhook changes
nothing.
"""

from __future__ import annotations

import json
from typing import Any

from servicekit.domain_errors import Invalid, Unauthenticated

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain.jira_events import closed_with_missing_ingredients, verify_signature
from ..domain.models import WebhookResult
from ..metrics import WEBHOOKS
from .cancel_order import cancel_locked


def handle_jira_webhook(
    uow: BakeryUnitOfWork, webhook_secret: str | None, body: bytes, signature: str | None
) -> WebhookResult:
    try:
        verify_signature(webhook_secret, body, signature)
    except Unauthenticated:
        WEBHOOKS.labels("unauthorized").inc()
        raise
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        raise Invalid("The webhook body is not JSON.") from None
    issue: Any = event.get("issue") if isinstance(event, dict) else None
    key = issue.get("key") if isinstance(issue, dict) else None
    if not isinstance(key, str) or not key:
        raise Invalid("The webhook has no issue key (issue.key).")
    if not closed_with_missing_ingredients(issue):
        WEBHOOKS.labels("ignored").inc()
        return WebhookResult(ticket_key=key, cancelled=[])
    cancelled = []
    with uow:
        for row in uow.orders.on_ticket(key):
            if row["state"] != "cancelled":
                cancel_locked(uow, row)
                cancelled.append(row["id"])
        uow.commit()
    WEBHOOKS.labels("cancelled" if cancelled else "no_change").inc()
    return WebhookResult(ticket_key=key, cancelled=cancelled)
