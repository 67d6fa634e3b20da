"""Replaying outside actions: every pending, held or dead-lettered action of an integration, or one by its id,
made due now."""

from __future__ import annotations

from jobs.outbox import Outbox, Row
from servicekit.domain_errors import NotFound

from ..domain.actions import INTEGRATIONS, is_integration
from ..domain.models import ActionReplayResult, ReplayResult
from .integration_status import action_name


def replay(actions: Outbox, name: str) -> ReplayResult:
    if not is_integration(name):
        raise NotFound(f"No integration is called {name!r}; they are {', '.join(INTEGRATIONS)}.")
    return ReplayResult(name=name, requeued=actions.replay_channel(name))


def replay_action(actions: Outbox, action_id: str) -> ActionReplayResult:
    """One action (from the dead letter, or held) made due now, by its id."""
    row: Row | None
    try:
        row = actions.get(action_id)
    except ValueError:
        row = None
    if row is None or not is_integration(row.channel):
        raise NotFound(f"No outside action has the id {action_id[:60]!r}.")
    if row.state == "done":
        raise NotFound(f"Action {row.id} is done; there is nothing to replay.")
    requeued = actions.replay(row.id)
    return ActionReplayResult(id=row.id, integration=row.channel, action=action_name(row), requeued=requeued)
