"""HTTP layer of dispatch-service: one blueprint per resource (and the `flask dispatch` commands)."""

from flask import Flask

from . import assignments, commands, days


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(days.bp)
    app.register_blueprint(assignments.bp)
    app.register_blueprint(commands.bp)
