"""HTTP layer of bakery-service: one blueprint per resource (and the `flask bakery` commands). Each view
parses, calls one use case and serialises; servicekit turns the use cases' refusals into problem+json."""

from flask import Flask

from . import batches, cakes, commands, employees, integrations, orders, ui, webhooks


def register_blueprints(app: Flask) -> None:
    for module in (ui, cakes, orders, batches, employees, integrations, webhooks, commands):
        app.register_blueprint(module.bp)
