"""HTTP layer of bakery-service: one blueprint per resource (and the `flask bakery` commands)."""

from flask import Flask

from ..domain.errors import BakeryError
from . import batches, cakes, commands, employees, integrations, orders, ui, webhooks
from .responses import bakery_problem


def register_blueprints(app: Flask) -> None:
    app.register_error_handler(BakeryError, bakery_problem)
    for module in (ui, cakes, orders, batches, employees, integrations, webhooks, commands):
        app.register_blueprint(module.bp)
