"""gpt-service: POST /summarize-loads: load summaries from an OpenAI model, with a deterministic fallback."""

from flask import Flask
from servicekit import checks, create_app as create_service_app, load_settings

from .api import register_blueprints
from .settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings(Settings)
    app = create_service_app(settings, import_name=__name__, title="gpt-service",
                             readiness={"openai": checks.configured("OPENAI_API_KEY", settings.openai_api_key)})
    register_blueprints(app, settings)
    return app
