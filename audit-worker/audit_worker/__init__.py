"""audit-worker: Consumes fleet events and keeps the audit trail; serves it, health and metrics."""

from __future__ import annotations

from flask import Flask
from servicekit import create_app as create_service_app
from servicekit import install_dependencies, load_settings

from .api import register_blueprints
from .settings import Settings
from .wiring import Dependencies, build_dependencies


def create_app(settings: Settings | None = None, deps: Dependencies | None = None) -> Flask:
    """With AUDIT_CONSUMER=embedded the consumer runs in this process, feeding the store it serves."""
    settings = settings or load_settings(Settings)
    dependencies = deps or build_dependencies(settings)
    app = create_service_app(
        settings,
        import_name=__name__,
        title="audit-worker",
        readiness={
            "store": dependencies.store.ping,
            "consumer": dependencies.consumer_check,
            "event_bus": dependencies.bus_check,
        },
    )
    install_dependencies(app, dependencies)
    register_blueprints(app)
    return app
