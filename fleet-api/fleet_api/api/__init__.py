"""HTTP layer of fleet-api: one blueprint per resource; dependencies come from ``wiring.deps()``."""

from __future__ import annotations

from flask import Flask

from ..domain.errors import DomainError
from . import assignments, auth, drivers, loads, users
from .responses import domain_problem


def register_blueprints(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_problem)
    for module in (auth, users, drivers, loads, assignments):
        app.register_blueprint(module.bp)
