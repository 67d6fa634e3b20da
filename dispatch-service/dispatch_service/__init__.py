"""dispatch-service: Daily package-to-driver assignment by driver rules; assignments in DynamoDB."""

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
        title="dispatch-service",
        readiness={"dynamodb": checks.dynamodb(settings.aws_endpoint_url, settings.aws_region)},
    )
    register_blueprints(app, settings)
    return app
