"""automation-service: headless-browser extraction of recent loads from two loadboard portals,
summarised by gpt-service."""

from __future__ import annotations

from flask import Flask
from servicekit import checks, install_dependencies, install_lifecycle, load_settings
from servicekit import create_app as create_service_app

from .adapters.readiness import chromium_present
from .api import register_blueprints
from .settings import Settings
from .wiring import Dependencies, background, build_dependencies


def create_app(
    settings: Settings | None = None, deps: Dependencies | None = None, *, start_background: bool = True
) -> Flask:
    settings = settings or load_settings(Settings)
    dependencies = deps or build_dependencies(settings)
    app: Flask = create_service_app(
        settings,
        import_name=__name__,
        title="automation-service",
        readiness={
            "postgres": checks.postgres(settings.database_url),
            "chromium": chromium_present(settings.chromium_path),
        },
    )
    install_dependencies(app, dependencies)
    register_blueprints(app)
    install_lifecycle(app, background(dependencies), start=start_background)
    return app
