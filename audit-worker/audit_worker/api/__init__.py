"""HTTP layer of audit-worker: the audit trail, read-only; dependencies come from ``wiring.deps()``."""

from __future__ import annotations

from flask import Flask

from . import audit_events


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(audit_events.bp)
