"""HTTP layer of gpt-service: one blueprint per resource; dependencies come from ``wiring.deps()``."""

from flask import Flask

from . import summarize


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(summarize.bp)
