"""fleet-api: Users, drivers, loads and one-active-load-per-driver assignments, behind JWT login."""

from __future__ import annotations

from flask import Flask
from servicekit import checks, install_dependencies, install_lifecycle, load_settings
from servicekit import create_app as create_service_app

from .adapters.readiness import cache_check, outbox_check
from .api import register_blueprints
from .settings import Settings
from .wiring import Dependencies, background, build_dependencies


def create_app(
    settings: Settings | None = None, deps: Dependencies | None = None, *, start_background: bool = True
) -> Flask:
    settings = settings or load_settings(Settings)
    dependencies = deps or build_dependencies(settings)
    database_url = settings.database_url.get_secret_value()
    app: Flask = create_service_app(
        settings,
        import_name=__name__,
        title="fleet-api",
        readiness={
            "postgres": checks.postgres(database_url),
            "redis": cache_check(settings.redis_url.get_secret_value()),
            "outbox": outbox_check(database_url),
        },
    )
    install_dependencies(app, dependencies)
    register_blueprints(app)
    install_lifecycle(app, background(dependencies), start=start_background)
    return app
