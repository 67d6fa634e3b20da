"""The bakery's outside actions in the suite's outbox (``bakery.job_outbox``, jobs.outbox).

An action's type is ``<integration>.<action>`` and its channel the integration, so that the processor
claims the actions of configured integrations only and holds the others apart. Its row id is the action's
id: the idempotency key its effect carries wherever the vendor takes one.
"""

from __future__ import annotations

from jobs import JobRegistry
from jobs.outbox import Outbox, enqueue
from sqlalchemy.engine import Connection, Engine

from ..domain.actions import ACTIONS, Action

SCHEMA = "bakery"

registry = JobRegistry()
for _model in ACTIONS:
    registry.register(_model.TYPE, _model, description=(_model.__doc__ or _model.TYPE).strip().splitlines()[0])


class ActionOutbox:
    """The outbox as a unit of work writes to it: rows in the transaction of the change that causes them."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, action: Action, *, delay_seconds: float | None = None) -> str:
        """Write the action in this transaction; returns its id. It carries the id of the request being served
        (or, for a follow-up, of the request the processor is sending for)."""
        action_id: str = enqueue(
            self.connection,
            action.TYPE,
            action,
            schema=SCHEMA,
            registry=registry,
            channel=action.channel(),
            delay_seconds=delay_seconds,
        )
        return action_id


def action_log(engine: Engine) -> Outbox:
    """The outbox as a whole (counts, dead letter, replay, claims), each call its own transaction."""
    return Outbox(engine, SCHEMA)
