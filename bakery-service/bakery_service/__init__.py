"""bakery-service: Cakes, orders and employees, with Jira, Slack, e-mail, Google Drive and GitHub integrations."""

from __future__ import annotations

import servicekit
from flask import Flask
from servicekit import checks, load_settings

from .api import register_blueprints
from .settings import Settings
from .wiring import Dependencies, background, build_dependencies


def create_app(
    settings: Settings | None = None, deps: Dependencies | None = None, *, start_background: bool = True
) -> Flask:
    settings = settings or load_settings(Settings)
    deps = deps or build_dependencies(settings)
    app: Flask = servicekit.create_app(
        settings,
        import_name=__name__,
        title="bakery-service",
        readiness={"postgres": checks.postgres(settings.database_url)},
    )
    servicekit.install_dependencies(app, deps)
    register_blueprints(app)
    servicekit.install_lifecycle(app, background(deps), start=start_background)
    return app
