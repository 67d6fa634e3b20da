"""fleet-api's dependencies, built once per process by ``create_app`` and read by views through ``deps()``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import servicekit
from servicekit.db import make_engine
from sqlalchemy import Connection

from .adapters import events
from .adapters.cache import LoadsCache
from .adapters.postgres import FleetRepository
from .demo_user import DemoUser
from .domain.events import LoadEventMessage
from .settings import Settings

# Called with the open connection and the event, inside the transaction of the change.
EventWriter = Callable[[Connection, LoadEventMessage], None]


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    repo: FleetRepository
    cache: LoadsCache
    write_event: EventWriter
    demo_user: DemoUser

    def close(self) -> None:
        self.cache.close()
        self.repo.engine.dispose()


def build_dependencies(settings: Settings) -> Dependencies:
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=settings.database_pool_size)
    repo = FleetRepository(engine)
    cache = LoadsCache(
        settings.redis_url.get_secret_value(), settings.loads_cache_ttl_seconds, settings.loads_cache_mode
    )
    demo_user = DemoUser(settings, repo)
    # A start-up step, not a request's: every worker tries once (idempotent, race-safe by the unique
    # e-mail); if Postgres is not up yet, the first login tries again.
    demo_user.ensure()
    return Dependencies(
        settings=settings,
        repo=repo,
        cache=cache,
        write_event=events.outbox_writer(),
        demo_user=demo_user,
    )


def deps() -> Dependencies:
    return servicekit.current_dependencies(Dependencies)
