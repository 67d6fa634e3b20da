"""``create_app``: the Flask application every service starts from."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider

from .auth import install_guard
from .converters import CONVERTERS
from .errors import register_error_handlers
from .health import ReadinessCheck, health_blueprint
from .logs import configure_logging
from .metrics import setup_metrics
from .openapi import register_openapi
from .settings import ServiceSettings

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("servicekit.access")


class _JsonProvider(DefaultJSONProvider):
    sort_keys = False


def _install_request_id(app: Flask) -> None:
    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _log_and_tag(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        started = g.get("started")
        if request.path not in ("/healthz", "/metrics"):
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    # The URL rule, not the path: one value per route, so lines of one route group together.
                    "route": request.url_rule.rule if request.url_rule is not None else None,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
                },
            )
        return response


def create_app(
    settings: ServiceSettings,
    *,
    import_name: str,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    title: str | None = None,
) -> Flask:
    """Build a Flask app with logging, request ids, errors, auth guard, health, metrics and OpenAPI.

    The service then registers its blueprints on the returned app.
    """
    configure_logging(settings.service_name, settings.log_level, settings.log_dir)
    app = Flask(import_name)
    app.url_map.converters.update(CONVERTERS)
    app.json = _JsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    app.config["SETTINGS"] = settings
    app.extensions["servicekit"] = settings
    _install_request_id(app)
    register_error_handlers(app)
    install_guard(app, settings)
    app.register_blueprint(
        health_blueprint(settings.service_name, dict(readiness or {}), settings.readiness_timeout_seconds)
    )
    setup_metrics(app, settings.service_name)
    register_openapi(app, title or settings.service_name)
    return app
