"""HTTP layer of audit-worker: the audit trail, read-only."""

from __future__ import annotations

from flask import Flask

from ..settings import Settings
from . import audit_events


def register_blueprints(app: Flask, settings: Settings) -> None:
    app.register_blueprint(audit_events.bp)
