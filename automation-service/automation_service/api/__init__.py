"""HTTP layer of automation-service: one blueprint per resource."""

from flask import Flask

from ..settings import Settings
from . import loads, runs


def register_blueprints(app: Flask, settings: Settings) -> None:
    """Each resource's blueprint is registered here."""
    app.register_blueprint(runs.blueprint)
    app.register_blueprint(loads.blueprint)
