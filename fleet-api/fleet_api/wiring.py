"""fleet-api's dependencies, built once per process by ``create_app`` and read by views through ``deps()``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import servicekit
from servicekit.db import make_engine
from sqlalchemy import Connection

from .adapters import events
from .adapters.cache import LoadsCache
from .adapters.login_throttle import Limits, LoginThrottle
from .adapters.postgres import FleetRepository
from .adapters.token_versions import TokenVersionWriter
from .demo_user import DemoUser
from .domain.events import LoadEventMessage
from .settings import Settings
from .token_versions import Keeper

# Called with the open connection and the event, inside the transaction of the change.
EventWriter = Callable[[Connection, LoadEventMessage], None]


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    repo: FleetRepository
    cache: LoadsCache
    write_event: EventWriter
    demo_user: DemoUser
    login_throttle: LoginThrottle
    # The token-version hash every service reads (AUTH_REDIS_URL); disabled when that is unset.
    token_versions: TokenVersionWriter
    token_versions_keeper: Keeper

    def close(self) -> None:
        self.token_versions_keeper.stop()
        self.token_versions.close()
        self.login_throttle.close()
        self.cache.close()
        self.repo.engine.dispose()


def build_dependencies(settings: Settings) -> Dependencies:
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=settings.database_pool_size)
    repo = FleetRepository(engine)
    cache = LoadsCache(
        settings.redis_url.get_secret_value(), settings.loads_cache_ttl_seconds, settings.loads_cache_mode
    )
    auth_redis_url = settings.auth_redis_url.get_secret_value() if settings.auth_redis_url else None
    token_versions = TokenVersionWriter(auth_redis_url)
    throttle = LoginThrottle(
        settings.redis_url.get_secret_value(),
        Limits(
            per_address=settings.login_max_failures_per_address,
            per_account=settings.login_max_failures_per_account,
            per_account_and_address=settings.login_max_failures_per_account_and_address,
            window_seconds=settings.login_failure_window_seconds,
        ),
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
        login_throttle=throttle,
        token_versions=token_versions,
        token_versions_keeper=Keeper(repo, token_versions),
    )


def deps() -> Dependencies:
    return servicekit.current_dependencies(Dependencies)
