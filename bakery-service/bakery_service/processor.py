"""The outbox processor: sends due actions of the configured integrations, retrying with backoff.

An action is leased (``claim_due``) in a short transaction, sent with no transaction open, then settled
in another: done (with whatever the change it caused needs, e.g. the ticket key on the orders), due again
later, or failed once it has used its attempts or got an answer that retrying cannot change. An
integration without credentials is never claimed: its actions stay pending until it has them.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from servicekit.logs import request_id_context
from sqlalchemy.engine import Connection

from .adapters import postgres as pg
from .adapters.integration_errors import IntegrationError, NotConfigured
from .adapters.integrations import NAMES, IntegrationClients
from .adapters.postgres import BakeryStore
from .metrics import ACTIONS, NOTIFICATION_CHANNELS, NOTIFICATIONS, OLDEST_PENDING, PENDING
from .orders import email_notice
from .outbox import add_action
from .settings import Settings

log = logging.getLogger("bakery_service.processor")


@dataclass
class Outcome:
    result: dict[str, Any]
    # Runs in the transaction that marks the action done.
    then: Callable[[Connection], None] | None = None


Handler = Callable[[IntegrationClients, dict[str, Any]], Outcome]


def create_ticket(clients: IntegrationClients, p: dict[str, Any]) -> Outcome:
    jira = clients.jira
    # A previous attempt may have created the ticket and died before recording it: find it first.
    key = jira.find_ticket_by_label(p["label"])
    if key is None:
        due = date.fromisoformat(p["due_date"]) if p.get("due_date") else None
        key = jira.create_ticket(p["summary"], p["description"], due, list(p["labels"]))
    return Outcome({"ticket_key": key}, lambda conn: pg.record_ticket(conn, p["batch_id"], key))


def slack_ready_notice(clients: IntegrationClients, p: dict[str, Any]) -> Outcome:
    user_id = clients.slack.find_user(p["customer"])
    if user_id is None:
        notice = email_notice(p["order_id"], p["customer"], p["text"])
        return Outcome(
            {"slack_user": None, "fallback": "email", "to": notice["to"]},
            lambda conn: add_action(conn, "email", "ready_notice", notice) and None,
        )
    clients.slack.send_direct_message(user_id, p["text"])
    return Outcome({"slack_user": user_id}, lambda conn: pg.record_ready_notice(conn, p["order_id"], "slack", user_id))


def email_ready_notice(clients: IntegrationClients, p: dict[str, Any]) -> Outcome:
    message_id = clients.email.send(p["to"], p["subject"], p["body"])
    result = {"to": p["to"], **({"message_id": message_id} if isinstance(message_id, str) else {})}
    return Outcome(result, lambda conn: pg.record_ready_notice(conn, p["order_id"], "email", p["to"]))


def drive_append_line(clients: IntegrationClients, p: dict[str, Any]) -> Outcome:
    return Outcome({"file_id": clients.drive.append_line(p["customer_slug"], p["title"], p["line"])})


def github_grant(clients: IntegrationClients, p: dict[str, Any]) -> Outcome:
    clients.github.grant(p["username"])
    return Outcome({"granted": p["username"]})


def github_revoke(clients: IntegrationClients, p: dict[str, Any]) -> Outcome:
    clients.github.revoke(p["username"])
    return Outcome({"revoked": p["username"]})


HANDLERS: dict[tuple[str, str], Handler] = {
    ("jira", "create_ticket"): create_ticket,
    ("slack", "ready_notice"): slack_ready_notice,
    ("email", "ready_notice"): email_ready_notice,
    ("drive", "append_line"): drive_append_line,
    ("github", "grant"): github_grant,
    ("github", "revoke"): github_revoke,
}


class OutboxProcessor:
    def __init__(
        self,
        store: BakeryStore,
        clients: IntegrationClients,
        settings: Settings,
        *,
        jitter: Callable[[], float] = lambda: random.uniform(0.5, 1.0),  # noqa: S311 - spreading retries
    ) -> None:
        self.store = store
        self.clients = clients
        self.settings = settings
        self.jitter = jitter

    def backoff(self, attempts: int) -> float:
        """Exponential (base × 2^(attempts-1)), capped, with jitter so that retries do not come in waves."""
        s = self.settings
        return min(s.integration_retry_max_seconds, s.integration_retry_base_seconds * 2 ** (attempts - 1)) * (
            self.jitter()
        )

    def run_once(self, limit: int = 100) -> int:
        """Send up to ``limit`` due actions; returns how many were tried."""
        integrations = [n for n in NAMES if self.clients.configured(n)]
        tried = 0
        while integrations and tried < limit:
            with self.store.begin() as conn:
                row = pg.claim_due(conn, integrations, self.settings.integration_lease_seconds)
            if row is None:
                break
            tried += 1
            # Its log lines (and a follow-up action it writes) carry the id of the request that caused it.
            with request_id_context(row.get("request_id")):
                self._send(dict(row))
        self.measure_backlog()
        return tried

    def measure_backlog(self) -> None:
        """The pending-actions gauges, from the outbox itself (every integration, configured or not)."""
        with self.store.read() as conn:
            backlog = pg.pending_backlog(conn)
        for name in NAMES:
            count, age = backlog.get(name, (0, 0.0))
            PENDING.labels(name).set(count)
            OLDEST_PENDING.labels(name).set(age)

    def _send(self, row: dict[str, Any]) -> None:
        integration, action = row["integration"], row["action"]
        handler = HANDLERS.get((integration, action))
        try:
            if handler is None:
                raise IntegrationError(f"no handler for {integration}.{action}", retryable=False)
            outcome = handler(self.clients, row["payload"])
        except NotConfigured as exc:
            self._settle_error(row, str(exc), retryable=True, counts=False)
        except IntegrationError as exc:
            self._settle_error(row, str(exc), retryable=exc.retryable, retry_after=getattr(exc, "retry_after", None))
        except Exception as exc:  # noqa: BLE001 - an unexpected client error must not lose the action
            log.exception("outbox action %s (%s.%s) raised", row["id"], integration, action)
            self._settle_error(row, f"{type(exc).__name__}: {exc}", retryable=True)
        else:
            with self.store.begin() as conn:
                if outcome.then is not None:
                    outcome.then(conn)
                pg.finish(conn, row["id"], json.dumps(outcome.result))
            ACTIONS.labels(integration, "done").inc()
            if integration in NOTIFICATION_CHANNELS:
                NOTIFICATIONS.labels(integration).inc()
            log.info("outbox action %s (%s.%s) done", row["id"], integration, action)

    def _settle_error(
        self,
        row: dict[str, Any],
        error: str,
        *,
        retryable: bool,
        counts: bool = True,
        retry_after: float | None = None,
    ) -> None:
        attempts = row["attempts"]
        failed = counts and (not retryable or attempts >= self.settings.integration_max_attempts)
        # An API that says when to come back (429/503 Retry-After) is not asked sooner.
        delay = max(self.backoff(attempts), min(retry_after or 0.0, self.settings.integration_retry_max_seconds))
        with self.store.begin() as conn:
            pg.retry_later(conn, row["id"], delay, error, failed=failed)
        ACTIONS.labels(row["integration"], "failed" if failed else "retry").inc()
        log.warning(
            "outbox action %s (%s.%s) attempt %s %s: %s",
            row["id"],
            row["integration"],
            row["action"],
            attempts,
            "failed for good" if failed else "will be retried",
            error,
        )
