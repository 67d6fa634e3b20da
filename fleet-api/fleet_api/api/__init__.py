"""HTTP layer of fleet-api: one blueprint per resource, sharing the adapters built here."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import OperationalError

from ..adapters import events
from ..adapters.cache import LoadsCache
from ..adapters.postgres import FleetRepository, make_engine
from ..domain.errors import DomainError
from ..settings import Settings
from . import assignments, auth, drivers, loads, users
from .context import Fleet
from .responses import database_unavailable, domain_problem


def register_blueprints(app: Flask, settings: Settings) -> None:
    events.register_event_types()
    engine = make_engine(settings.database_url.get_secret_value(), settings.database_pool_size)
    fleet = Fleet(
        settings=settings,
        repo=FleetRepository(engine, events.write_to_outbox),
        cache=LoadsCache(
            settings.redis_url.get_secret_value(), settings.loads_cache_ttl_seconds, settings.loads_cache_mode
        ),
    )
    app.extensions["fleet"] = fleet
    app.register_error_handler(DomainError, domain_problem)
    app.register_error_handler(OperationalError, database_unavailable)
    for module in (auth, users, drivers, loads, assignments):
        app.register_blueprint(module.bp)
    auth.seed_demo_user(fleet)
