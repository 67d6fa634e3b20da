"""automation-service: headless-browser extraction of recent loads from two loadboard portals,
summarised by gpt-service."""

import os

from flask import Flask
from servicekit import checks, install_dependencies, load_settings
from servicekit import create_app as create_service_app

from .api import register_blueprints
from .settings import Settings
from .wiring import Dependencies, build_dependencies


def create_app(settings: Settings | None = None, deps: Dependencies | None = None) -> Flask:
    settings = settings or load_settings(Settings)
    dependencies = deps or build_dependencies(settings)
    app = create_service_app(
        settings,
        import_name=__name__,
        title="automation-service",
        readiness={
            "postgres": checks.postgres(settings.database_url),
            "chromium": _chromium_present(settings.chromium_path),
        },
    )
    install_dependencies(app, dependencies)
    register_blueprints(app)
    return app


def _chromium_present(path: str):
    # Ready means a run could start: a worker without its browser would fail every run.
    def check() -> dict:
        if not os.access(path, os.X_OK):
            raise RuntimeError(f"no Chromium at {path} (CHROMIUM_PATH)")  # logged, never shown by /readyz
        return {}

    return check
