"""audit-worker: Consumes fleet events and keeps the audit trail; serves it, health and metrics."""

from __future__ import annotations

import servicekit
from flask import Flask
from servicekit import load_settings

from .api import register_blueprints
from .settings import Settings
from .wiring import Dependencies, background, build_dependencies


def create_app(
    settings: Settings | None = None, deps: Dependencies | None = None, *, start_background: bool = True
) -> Flask:
    """With AUDIT_CONSUMER=embedded the consumer runs in this process, feeding the store it serves."""
    settings = settings or load_settings(Settings)
    deps = deps or build_dependencies(settings)
    app: Flask = servicekit.create_app(
        settings,
        import_name=__name__,
        title="audit-worker",
        readiness={"store": deps.store.ping, "consumer": deps.consumer_check, "event_bus": deps.bus_check},
    )
    servicekit.install_dependencies(app, deps)
    register_blueprints(app)
    servicekit.install_lifecycle(app, background(deps), start=start_background)
    return app
