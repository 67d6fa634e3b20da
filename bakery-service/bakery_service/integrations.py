"""What each integration is doing: configured or not, its outbox, its last result; and replaying it."""

from __future__ import annotations

from .adapters import postgres as pg
from .adapters.integrations import NAMES, IntegrationClients
from .adapters.postgres import BakeryStore
from .domain.errors import NotFound
from .domain.models import IntegrationStatus, LastResult, ReplayResult


def integration_states(store: BakeryStore, clients: IntegrationClients) -> list[IntegrationStatus]:
    with store.read() as conn:
        counts = pg.outbox_counts(conn)
        last = pg.last_results(conn)
    states = []
    for name in NAMES:
        n = counts.get(name, {})
        row = last.get(name)
        states.append(
            IntegrationStatus(
                name=name,
                configured=clients.configured(name),
                pending=n.get("pending", 0),
                failed=n.get("failed", 0),
                done=n.get("done", 0),
                last_result=LastResult(
                    action=row["action"], state=row["state"], at=row["updated_at"], error=row["last_error"]
                )
                if row
                else None,
            )
        )
    return states


def replay(store: BakeryStore, name: str) -> ReplayResult:
    if name not in NAMES:
        raise NotFound(f"No integration is called {name!r}; they are {', '.join(NAMES)}.")
    with store.begin() as conn:
        return ReplayResult(name=name, requeued=pg.replay(conn, name))
