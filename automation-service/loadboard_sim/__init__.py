"""loadboard-sim: stand-ins for the J.B. Hunt and Landstar load boards, for tests and the local stack.

One Flask app serves both portals under path prefixes (``/jbhunt`` and ``/landstar``), each with its
own login form, session cookie, markup, pagination style, time zone and price formats. It runs as
its own process (``gunicorn -c automation-service/loadboard_sim/gunicorn.conf.py``, port 8010).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, jsonify, redirect

from . import control, jbhunt, landstar
from .data import generate
from .faults import FaultBoard
from .settings import SimSettings


def create_app(settings: SimSettings | None = None) -> Flask:
    settings = settings or SimSettings()
    app = Flask(__name__)
    app.config["SIM"] = settings
    # Loads are posted relative to start-up time (whole minutes), so "most recent" stays meaningful.
    anchor = datetime.now(UTC).replace(second=0, microsecond=0)
    app.config["LOADS"] = {
        "jbhunt": generate("jbhunt", settings.jbhunt_loads, anchor, settings.seed),
        "landstar": generate("landstar", settings.landstar_loads, anchor, settings.seed),
    }
    app.config["FAULTS"] = FaultBoard(settings.configured_faults(), settings.slow_seconds)
    app.register_blueprint(jbhunt.blueprint, url_prefix="/jbhunt")
    app.register_blueprint(landstar.blueprint, url_prefix="/landstar")
    if settings.control_enabled:
        app.register_blueprint(control.blueprint, url_prefix="/_sim")

    @app.get("/")
    def index():
        return redirect("/jbhunt/loadboard/map")

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", portals=["jbhunt", "landstar"])

    return app
