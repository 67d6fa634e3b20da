"""gpt-service: POST /summarize-loads: load summaries from an OpenAI model, with a deterministic fallback."""

from __future__ import annotations

import servicekit
from flask import Flask
from servicekit import checks, load_settings
from servicekit.health import ReadinessCheck

from .api import register_blueprints
from .settings import Settings
from .wiring import Dependencies, background, build_dependencies


def create_app(
    settings: Settings | None = None, deps: Dependencies | None = None, *, start_background: bool = True
) -> Flask:
    settings = settings or load_settings(Settings)
    deps = deps or build_dependencies(settings)
    # The model is not a readiness dependency: without a key (or with the API down) the service answers
    # degraded, and /readyz, which anyone may read, says nothing about keys.
    readiness: dict[str, ReadinessCheck] = {}
    if settings.redis_url:
        readiness["redis"] = checks.redis(settings.redis_url)
    app: Flask = servicekit.create_app(settings, import_name=__name__, title="gpt-service", readiness=readiness)
    servicekit.install_dependencies(app, deps)
    register_blueprints(app)
    servicekit.install_lifecycle(app, background(deps), start=start_background)
    return app
