"""What each integration is doing: enabled or not, its outbox and dead letter, its last result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from jobs.outbox import Outbox, Row

from ..domain.actions import INTEGRATIONS
from ..domain.models import DeadLetter, IntegrationStatus, LastResult
from ..metrics import HELD, OLDEST_PENDING, PENDING

DEAD_LETTERS_SHOWN = 20
# The API's words for the outbox's states.
STATE_NAMES: dict[str, Literal["pending", "held", "done", "failed"]] = {
    "pending": "pending",
    "held": "held",
    "done": "done",
    "dead": "failed",
}


def action_name(row: Row) -> str:
    """``ready_notice`` of ``email.ready_notice``."""
    return str(row.type).split(".", 1)[-1]


def integration_states(actions: Outbox, configured: Callable[[str], bool]) -> list[IntegrationStatus]:
    counts = actions.counts()
    last = actions.latest_attempts()
    dead = actions.dead_letters(limit=DEAD_LETTERS_SHOWN * len(INTEGRATIONS))
    states = []
    for name in INTEGRATIONS:
        n = counts.get(name, {})
        enabled = configured(name)
        pending, held = n.get("pending", 0), n.get("held", 0)
        if not enabled:
            # The processor holds them at its next pass: they wait for credentials, not for an API.
            pending, held = 0, pending + held
        row = last.get(name)
        states.append(
            IntegrationStatus(
                name=name,
                configured=enabled,
                status="enabled" if enabled else "disabled",
                pending=pending,
                held=held,
                failed=n.get("dead", 0),
                done=n.get("done", 0),
                last_result=LastResult(
                    action=action_name(row), state=STATE_NAMES[row.state], at=row.updated_at, error=row.last_error
                )
                if row
                else None,
                dead_letters=[
                    DeadLetter(
                        id=d.id,
                        action=action_name(d),
                        attempts=d.attempts,
                        error=d.last_error,
                        at=d.updated_at,
                        payload=d.payload if isinstance(d.payload, dict) else {},
                    )
                    for d in dead
                    if d.channel == name
                ][:DEAD_LETTERS_SHOWN],
            )
        )
    return states


def measure_backlog(actions: Outbox) -> None:
    """The gauges, from the outbox itself: pending (due or backing off) and held apart."""
    backlog = actions.backlog()
    counts = actions.counts()
    for name in INTEGRATIONS:
        count, age = backlog.get(name, (0, 0.0))
        PENDING.labels(name).set(count)
        OLDEST_PENDING.labels(name).set(age)
        HELD.labels(name).set(counts.get(name, {}).get("held", 0))
