"""Everything bakery-service's views and use cases need, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

import servicekit
from servicekit.db import make_engine

from .adapters.integrations import IntegrationClients, build_clients
from .adapters.login import LoginForwarder
from .adapters.postgres import BakeryStore
from .settings import Settings


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    store: BakeryStore
    clients: IntegrationClients
    login: LoginForwarder


def build_dependencies(settings: Settings) -> Dependencies:
    deps = Dependencies(
        settings=settings,
        store=BakeryStore(make_engine(settings.database_url, pool_size=settings.database_pool_size)),
        clients=build_clients(settings),
        login=LoginForwarder(settings.auth_login_url),
    )
    if settings.schedule_enabled:
        # Imported here: the background loops use the use cases, which use this module's types.
        from .background import start_background

        start_background(deps)
    return deps


def deps() -> Dependencies:
    return servicekit.current_dependencies(Dependencies)
