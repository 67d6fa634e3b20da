"""``create_app``: the Flask application every service starts from."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from random import Random
from time import perf_counter
from typing import TYPE_CHECKING, Any

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider

from . import security_headers
from .auth import token_guard
from .bodies import limit_bodies
from .converters import CONVERTERS
from .errors import register_error_handlers
from .health import ReadinessCheck, health_blueprint
from .logs import configure_logging, write_access_line
from .metrics import HttpMetrics, setup_metrics
from .openapi import register_openapi
from .revocation import TokenVersions
from .settings import ServiceSettings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REQUEST_ID_KEY = "servicekit.request_id"
# app.extensions[REVOCATION_EXTENSION]: the app's TokenVersions (None when AUTH_REDIS_URL is unset).
REVOCATION_EXTENSION = "servicekit.revocation"
_UNLOGGED_PATHS = frozenset({"/healthz", "/metrics"})


# Request ids need to be unique, not secret: a generator of their own (seeded from the OS, and again in every
# forked worker, so no two gunicorn workers share a sequence, and nobody's random.seed() touches it) costs no
# system call, where os.urandom's getrandom(2) released the GIL to the other request threads on every request.
_ids = Random()
os.register_at_fork(after_in_child=_ids.seed)


def _new_request_id() -> str:
    # 32 random hex digits, as uuid4().hex gave.
    return f"{_ids.getrandbits(128):032x}"


class _JsonProvider(DefaultJSONProvider):
    sort_keys = False


class RequestPlumbing:
    """What every request gets, as one WSGI layer around the Flask app: the request id (taken or made, echoed
    as ``X-Request-ID``), the security headers, the per-route latency histogram, and one JSON access line.

    A WSGI layer rather than Flask hooks because each hook pays for Flask's dispatch and context-local
    lookups; here the same work reads the WSGI environ directly. The response status is known when Flask
    calls ``start_response``, which it does before its request context is popped, so the route Flask
    matched is still on the request object kept in the environ.
    """

    def __init__(self, wsgi_app: WSGIApplication, metrics: HttpMetrics, app: Flask | None = None):
        self.wsgi_app = wsgi_app
        self.metrics = metrics
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = perf_counter()
        if not self.metrics.routes_at_zero and self.app is not None:
            self.metrics.start_routes_at_zero(self.app)
        incoming = environ.get("HTTP_X_REQUEST_ID")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else _new_request_id()
        environ[REQUEST_ID_KEY] = request_id
        reported = False

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
            nonlocal reported
            headers.append(("X-Request-ID", request_id))
            security_headers.add(headers)
            if not reported:
                reported = True
                self._report(environ, int(status[:3]), request_id, started)
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, start)
        except BaseException:
            # Only when Flask propagates an error (testing mode); deployed, its handlers answer 500 themselves.
            if not reported:
                reported = True
                self._report(environ, 500, request_id, started)
            raise

    def _report(self, environ: WSGIEnvironment, status: int, request_id: str, started: float) -> None:
        elapsed = perf_counter() - started
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        flask_request = environ.get("werkzeug.request")
        rule = getattr(flask_request, "url_rule", None)
        if path != "/metrics":
            self.metrics.observe(method, str(rule.endpoint) if rule else "None", status, elapsed)
        if path not in _UNLOGGED_PATHS:
            write_access_line(method, path, rule.rule if rule else None, status, round(elapsed * 1000, 2), request_id)


def _token_versions(settings: ServiceSettings) -> TokenVersions | None:
    global _revocation_off_logged
    if settings.auth_redis_url is None:
        if not _revocation_off_logged:
            _revocation_off_logged = True
            logging.getLogger("servicekit.revocation").warning(
                "AUTH_REDIS_URL is not set: person tokens are not checked for revocation"
            )
        return None
    return TokenVersions(settings.auth_redis_url.get_secret_value(), grace_seconds=settings.auth_redis_grace_seconds)


_revocation_off_logged = False


def _install_plumbing(app: Flask, metrics: HttpMetrics, settings: ServiceSettings) -> None:
    app.wsgi_app = RequestPlumbing(app.wsgi_app, metrics, app)  # type: ignore[method-assign]
    # Connects at the first person's token, not here: building an app opens no connection.
    revocation = app.extensions[REVOCATION_EXTENSION] = _token_versions(settings)
    guard = token_guard(app, settings, revocation)

    # One hook, not one per concern: Flask's dispatch of each hook costs about as much as the hook's work.
    @app.before_request
    def _begin() -> None:
        current = request._get_current_object()  # type: ignore[attr-defined]
        # Views, problem bodies (a 401 included) and outgoing calls read the request id from ``g``.
        g.request_id = current.environ.get(REQUEST_ID_KEY) or _new_request_id()
        guard(current)


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
    limit_bodies(app, settings.max_content_length)
    app.config["SETTINGS"] = settings
    app.extensions["servicekit"] = settings
    metrics = setup_metrics(app, settings.service_name)
    _install_plumbing(app, metrics, settings)
    register_error_handlers(app)
    app.register_blueprint(
        health_blueprint(settings.service_name, dict(readiness or {}), settings.readiness_timeout_seconds)
    )
    register_openapi(app, title or settings.service_name)
    return app
