"""fleet-api's dependencies, built once per process by ``create_app`` and read by views through ``deps()``.

``build_dependencies`` only builds: no thread, no connection, no write (the engine and the Redis clients connect at
their first use). What runs beside requests is in ``background(deps)``, which ``create_app`` starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import servicekit
from servicekit import Lifecycle, OnClose, issue_token
from servicekit.db import make_engine
from sqlalchemy import Engine

from .adapters.cache import LoadsCache
from .adapters.login_throttle import Limits, LoginThrottle
from .adapters.outbox import event_registry
from .adapters.token_versions import TokenVersionWriter
from .adapters.unit_of_work import FleetUnitOfWork
from .background.demo_user import DemoUserSeeding
from .background.token_versions_keeper import TokenVersionsKeeper
from .settings import Settings


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    engine: Engine
    cache: LoadsCache
    login_throttle: LoginThrottle
    # The token-version hash every service reads (AUTH_REDIS_URL); disabled when that is unset.
    token_versions: TokenVersionWriter
    demo_user: DemoUserSeeding
    # A new unit of work (each is one transaction at a time; a request or a thread takes its own).
    uow: Callable[[], FleetUnitOfWork]
    # Signs a person's token: (subject, claims) -> (token, expires_in).
    issue_token: Callable[[str, dict[str, Any]], tuple[str, int]]

    def close(self) -> None:
        """Close the clients and the pool (the last part of ``background``'s lifecycle to close)."""
        self.token_versions.close()
        self.login_throttle.close()
        self.cache.close()
        self.engine.dispose()


def build_dependencies(settings: Settings) -> Dependencies:
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=settings.database_pool_size)
    uow = partial(FleetUnitOfWork, engine, event_registry())
    auth_redis_url = settings.auth_redis_url.get_secret_value() if settings.auth_redis_url else None
    return Dependencies(
        settings=settings,
        engine=engine,
        cache=LoadsCache(
            settings.redis_url.get_secret_value(), settings.loads_cache_ttl_seconds, settings.loads_cache_mode
        ),
        login_throttle=LoginThrottle(
            settings.redis_url.get_secret_value(),
            Limits(
                per_address=settings.login_max_failures_per_address,
                per_account=settings.login_max_failures_per_account,
                per_account_and_address=settings.login_max_failures_per_account_and_address,
                window_seconds=settings.login_failure_window_seconds,
            ),
        ),
        token_versions=TokenVersionWriter(auth_redis_url),
        demo_user=DemoUserSeeding(
            uow,
            settings.demo_user_name,
            settings.demo_user_email,
            settings.demo_user_password.get_secret_value(),
        ),
        uow=uow,
        issue_token=_token_issuer(settings),
    )


def _token_issuer(settings: Settings) -> Callable[[str, dict[str, Any]], tuple[str, int]]:
    def issue(subject: str, claims: dict[str, Any]) -> tuple[str, int]:
        return issue_token(settings, subject, claims=claims)

    return issue


def background(deps: Dependencies) -> Lifecycle:
    """A web worker's background parts, not started: the demo user (seeded before the worker serves) and the
    keeper of the token-version hash (a thread; only with AUTH_REDIS_URL). Closed newest first, the clients last."""
    return Lifecycle(
        OnClose(deps.close),
        deps.demo_user,
        TokenVersionsKeeper(deps.uow, deps.token_versions),
    )


def deps() -> Dependencies:
    return servicekit.current_dependencies(Dependencies)
