"""HTTP layer of automation-service: one blueprint per resource; dependencies come from ``wiring.deps()``."""

from flask import Flask

from . import loads, runs


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(runs.blueprint)
    app.register_blueprint(loads.blueprint)
