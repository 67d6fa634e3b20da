"""loadboard-sim: stand-ins for the J.B. Hunt and Landstar load boards, for tests and the local stack.

One Flask app serves both portals under path prefixes (``/jbhunt`` and ``/landstar``), each with its
own login form, session cookie, markup, pagination style, time zone and price formats. It runs as
its own process (``gunicorn -c automation-service/gunicorn.loadboard-sim.conf.py``, on its catalogue port), with the
same ``/healthz``, ``/readyz`` and ``/openapi.json`` as the services.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, jsonify, redirect
from servicekit.bodies import limit_bodies
from servicekit.errors import register_error_handlers
from servicekit.health import health_blueprint

from . import control, jbhunt, landstar
from .data import generate
from .faults import FaultBoard
from .openapi import build_document
from .settings import SimSettings


def _loads_of(app: Flask, portal: str):
    def check() -> dict:
        loads = app.config["LOADS"][portal]
        if not loads:
            raise RuntimeError(f"no loads generated for {portal}")
        return {"loads": len(loads)}

    return check


def create_app(settings: SimSettings | None = None) -> Flask:
    settings = settings or SimSettings()
    app = Flask(__name__)
    app.config["SIM"] = settings
    # Bodies (the login forms, /_sim/faults) counted as read, and refusals as problem+json, as in the services.
    limit_bodies(app, settings.max_content_length)
    register_error_handlers(app)
    # Loads are posted relative to start-up time (whole minutes), so "most recent" stays meaningful.
    anchor = datetime.now(UTC).replace(second=0, microsecond=0)
    app.config["LOADS"] = {
        "jbhunt": generate("jbhunt", settings.jbhunt_loads, anchor, settings.seed),
        "landstar": generate("landstar", settings.landstar_loads, anchor, settings.seed),
    }
    app.config["FAULTS"] = FaultBoard(
        settings.configured_faults(), settings.slow_seconds, per_request=settings.control_enabled
    )
    app.register_blueprint(jbhunt.blueprint, url_prefix="/jbhunt")
    app.register_blueprint(landstar.blueprint, url_prefix="/landstar")
    if settings.control_enabled:
        app.register_blueprint(control.blueprint, url_prefix="/_sim")

    @app.get("/")
    def index():
        return redirect("/jbhunt/loadboard/map")

    checks = {portal: _loads_of(app, portal) for portal in ("jbhunt", "landstar")}
    app.register_blueprint(health_blueprint("loadboard-sim", checks, timeout=2.0))
    document = build_document(settings.control_enabled)

    @app.get("/openapi.json")
    def openapi():
        return jsonify(document)

    return app
