"""audit-worker: Consumes fleet events and keeps the audit trail; serves health and metrics."""

from flask import Flask
from servicekit import checks, create_app as create_service_app, load_settings

from .api import register_blueprints
from .settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings(Settings)
    app = create_service_app(settings, import_name=__name__, title="audit-worker",
                             readiness={"event_bus": checks.redis(settings.redis_url)})
    register_blueprints(app, settings)
    return app
