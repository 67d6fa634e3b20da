"""What each integration is doing: enabled or not, its outbox and dead letter, its last result; replaying."""

from __future__ import annotations

from jobs.outbox import Outbox, Row

from .actions import INTEGRATIONS, SCHEMA
from .adapters.integrations import IntegrationClients
from .adapters.postgres import BakeryStore
from .domain.errors import NotFound
from .domain.models import ActionReplayResult, DeadLetter, IntegrationStatus, LastResult, ReplayResult

DEAD_LETTERS_SHOWN = 20
# The API's words for the outbox's states.
STATE_NAMES = {"pending": "pending", "held": "held", "done": "done", "dead": "failed"}


def _action(row: Row) -> str:
    return row.type.split(".", 1)[-1]


def integration_states(store: BakeryStore, clients: IntegrationClients) -> list[IntegrationStatus]:
    outbox = Outbox(store.engine, SCHEMA)
    counts = outbox.counts()
    last = outbox.latest_attempts()
    dead = outbox.dead_letters(limit=DEAD_LETTERS_SHOWN * len(INTEGRATIONS))
    states = []
    for name in INTEGRATIONS:
        n = counts.get(name, {})
        configured = clients.configured(name)
        pending, held = n.get("pending", 0), n.get("held", 0)
        if not configured:
            # The processor holds them at its next pass: they wait for credentials, not for an API.
            pending, held = 0, pending + held
        row = last.get(name)
        states.append(
            IntegrationStatus(
                name=name,
                configured=configured,
                status="enabled" if configured else "disabled",
                pending=pending,
                held=held,
                failed=n.get("dead", 0),
                done=n.get("done", 0),
                last_result=LastResult(
                    action=_action(row), state=STATE_NAMES[row.state], at=row.updated_at, error=row.last_error
                )
                if row
                else None,
                dead_letters=[
                    DeadLetter(
                        id=d.id,
                        action=_action(d),
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


def replay(store: BakeryStore, name: str) -> ReplayResult:
    if name not in INTEGRATIONS:
        raise NotFound(f"No integration is called {name!r}; they are {', '.join(INTEGRATIONS)}.")
    return ReplayResult(name=name, requeued=Outbox(store.engine, SCHEMA).replay_channel(name))


def replay_action(store: BakeryStore, action_id: str) -> ActionReplayResult:
    """One action (from the dead letter, or held) made due now, by its id."""
    outbox = Outbox(store.engine, SCHEMA)
    try:
        row = outbox.get(action_id)
    except ValueError:
        row = None
    if row is None or row.channel not in INTEGRATIONS:
        raise NotFound(f"No outside action has the id {action_id[:60]!r}.")
    if row.state == "done":
        raise NotFound(f"Action {row.id} is done; there is nothing to replay.")
    requeued = outbox.replay(row.id)
    return ActionReplayResult(id=row.id, integration=row.channel, action=_action(row), requeued=requeued)
