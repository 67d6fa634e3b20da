"""Everything bakery-service's views and background parts need, built once per process.

``build_dependencies`` builds objects and starts nothing: no thread, no write, no connection (the engine and
the clients connect on first use). ``background`` lists the process's background parts for a
servicekit.Lifecycle, which create_app starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import servicekit
from jobs.outbox import Outbox
from servicekit import Lifecycle
from servicekit.db import make_engine
from sqlalchemy.engine import Engine

from .adapters.action_outbox import action_log
from .adapters.clients import IntegrationClients, build_clients
from .adapters.login import LoginForwarder
from .adapters.unit_of_work import BakeryUnitOfWork
from .background.daily_batch import DailyBatch
from .background.outbox_processor import OutboxProcessor
from .settings import Settings


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    engine: Engine
    clients: IntegrationClients
    login: LoginForwarder

    def uow(self) -> BakeryUnitOfWork:
        """A fresh unit of work (one per use case call)."""
        return BakeryUnitOfWork(self.engine)

    def actions(self) -> Outbox:
        """The outbox of outside actions as a whole: counts, dead letter, replay."""
        return action_log(self.engine)


def build_dependencies(settings: Settings) -> Dependencies:
    return Dependencies(
        settings=settings,
        engine=make_engine(settings.database_url, pool_size=settings.database_pool_size),
        clients=build_clients(settings),
        login=LoginForwarder(settings.auth_login_url),
    )


def background(deps: Dependencies) -> Lifecycle:
    """The outbox processor and the daily batch of this process (not started); none when SCHEDULE_ENABLED is
    off (tests drive both by hand, a one-off command needs neither)."""
    if not deps.settings.schedule_enabled:
        return Lifecycle()
    return Lifecycle(
        OutboxProcessor(deps.engine, deps.clients, deps.settings),
        DailyBatch(deps.uow, deps.settings),
    )


def deps() -> Dependencies:
    dependencies: Dependencies = servicekit.current_dependencies(Dependencies)
    return dependencies
