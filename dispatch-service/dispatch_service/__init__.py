"""dispatch-service: the day's packages to drivers by driver rules, optimally; assignments in DynamoDB."""

from __future__ import annotations

from flask import Flask
from servicekit import checks, install_dependencies, install_lifecycle, load_settings
from servicekit import create_app as create_service_app

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
        title="dispatch-service",
        readiness={"dynamodb": checks.dynamodb(settings.aws_endpoint_url, settings.aws_region)},
    )
    install_dependencies(app, dependencies)
    register_blueprints(app)
    install_lifecycle(app, background(dependencies), start=start_background)
    return app
