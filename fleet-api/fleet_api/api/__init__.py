"""HTTP layer of fleet-api: one blueprint per resource; dependencies come from ``wiring.deps()``. Refusals of the
use cases (servicekit.domain_errors) are answered as problem+json by servicekit."""

from __future__ import annotations

from flask import Flask

from . import assignments, auth, drivers, loads, users


def register_blueprints(app: Flask) -> None:
    for module in (auth, users, drivers, loads, assignments):
        app.register_blueprint(module.bp)
