"""gpt-service: POST /summarize-loads: load summaries from an OpenAI model, with a deterministic fallback."""

import logging

from flask import Flask
from servicekit import checks, install_dependencies, load_settings
from servicekit import create_app as create_service_app
from servicekit.health import ReadinessCheck

from .api import register_blueprints
from .settings import Settings
from .wiring import Dependencies, build_dependencies


def create_app(settings: Settings | None = None, deps: Dependencies | None = None) -> Flask:
    settings = settings or load_settings(Settings)
    dependencies = deps or build_dependencies(settings)
    # The model is not a readiness dependency: without a key (or with the API down) the service answers
    # degraded, and /readyz, which anyone may read, says nothing about keys.
    readiness: dict[str, ReadinessCheck] = {}
    if settings.redis_url:
        readiness["redis"] = checks.redis(settings.redis_url)
    app = create_service_app(settings, import_name=__name__, title="gpt-service", readiness=readiness)
    install_dependencies(app, dependencies)
    if dependencies.summarizer.model is None:
        # A documented state of a stack without a key (gpt_model_configured 0), not a fault: said once.
        logging.getLogger(__name__).info(
            "no OpenAI API key: every summary is the deterministic answer (degraded: true, reason no_api_key)"
        )
    register_blueprints(app)
    return app
