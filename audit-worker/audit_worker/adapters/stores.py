"""The trail's store, as configured."""

from __future__ import annotations

from ..settings import Settings
from .unit_of_work import AuditStore


def build_store(settings: Settings) -> AuditStore:
    """The store AUDIT_STORE names: MongoDB (compose, production), Postgres (the local stack) or memory."""
    if settings.audit_store == "mongo":
        from .mongo_store import MongoAuditStore

        return MongoAuditStore.from_url(settings.mongo_url.get_secret_value(), settings.mongo_database)
    if settings.audit_store == "postgres":
        from .postgres_store import PostgresAuditStore

        if settings.database_url is None:
            raise SystemExit("configuration error: AUDIT_STORE=postgres needs DATABASE_URL")
        return PostgresAuditStore.from_url(settings.database_url.get_secret_value())
    from .memory_store import MemoryAuditStore

    return MemoryAuditStore(settings.audit_memory_max_documents)
