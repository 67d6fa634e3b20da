"""bakery-service: Cakes, orders and employees, with Jira, Slack, e-mail, Google Drive and GitHub integrations."""

from flask import Flask
from servicekit import checks, load_settings
from servicekit import create_app as create_service_app

from .api import register_blueprints
from .settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings(Settings)
    app = create_service_app(
        settings,
        import_name=__name__,
        title="bakery-service",
        readiness={"postgres": checks.postgres(settings.database_url)},
    )
    register_blueprints(app, settings)
    return app
