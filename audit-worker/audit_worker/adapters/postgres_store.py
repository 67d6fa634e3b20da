"""The audit trail on Postgres (schema ``audit``): the local stack's durable store, AUDIT_STORE=postgres.

The same calls and answers as the MongoDB store, in the transaction of a unit of work. The document is kept whole
as JSONB; the event id is the primary key (a redelivered event is a no-op whatever the consumer count, as Mongo's
unique index); the load, driver, type and times are columns, so the trail's queries use indexes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from servicekit import SqlUnitOfWork
from servicekit.db import make_engine
from sqlalchemy.dialects.postgresql import JSONB, insert

from .unit_of_work import AuditUnitOfWork, Document

_TIMES = {"occurredAt": "occurred_at", "recordedAt": "recorded_at", "notifiedAt": "notified_at"}

metadata = sa.MetaData(schema="audit")
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("driver_id", sa.Text, nullable=False),
    sa.Column("load_id", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("notified_at", sa.DateTime(timezone=True)),
    sa.Column("document", JSONB, nullable=False),
)


def _as_json(document: Document) -> Document:
    """Datetimes live in their own columns; inside the JSONB document they are ISO 8601 strings."""
    return json.loads(json.dumps(document, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)))


def _document(row: sa.Row) -> Document:
    document = dict(row.document)
    for key, column in _TIMES.items():
        document[key] = getattr(row, column)
    return document


class PostgresAuditEvents:
    """SQL only, on the unit of work's connection."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def record(self, document: Document) -> tuple[Document, bool]:
        t = audit_events
        statement = (
            insert(t)
            .values(
                event_id=document["eventId"],
                type=document["type"],
                driver_id=document["driverId"],
                load_id=document["loadId"],
                occurred_at=document["occurredAt"],
                recorded_at=document["recordedAt"],
                notified_at=document.get("notifiedAt"),
                document=_as_json(document),
            )
            .on_conflict_do_nothing(index_elements=[t.c.event_id])
            .returning(t.c.event_id)
        )
        if self.connection.execute(statement).first() is not None:
            return document, True
        existing = self.connection.execute(sa.select(t).where(t.c.event_id == document["eventId"])).first()
        return (_document(existing) if existing is not None else document), False

    def mark_notified(self, event_id: str, at: datetime) -> None:
        self.connection.execute(
            sa.update(audit_events).where(audit_events.c.event_id == event_id).values(notified_at=at)
        )

    def find(
        self, *, load_id: str | None = None, driver_id: str | None = None, type: str | None = None, limit: int = 100
    ) -> list[Document]:
        t = audit_events
        query = sa.select(t).order_by(t.c.occurred_at, t.c.recorded_at).limit(limit)
        for column, value in ((t.c.load_id, load_id), (t.c.driver_id, driver_id), (t.c.type, type)):
            if value:
                query = query.where(column == value)
        return [_document(row) for row in self.connection.execute(query)]

    def latest(self) -> Document | None:
        t = audit_events
        row = self.connection.execute(sa.select(t).order_by(t.c.recorded_at.desc()).limit(1)).first()
        return _document(row) if row is not None else None


class PostgresUnitOfWork(SqlUnitOfWork, AuditUnitOfWork):
    events: PostgresAuditEvents

    def bind(self, connection: sa.Connection) -> None:
        self.events = PostgresAuditEvents(connection)


class PostgresAuditStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, pool_size: int = 5) -> PostgresAuditStore:
        return cls(make_engine(url, pool_size=pool_size, connect_timeout=3))

    def unit_of_work(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self.engine)

    def ping(self) -> dict[str, Any]:
        # Reaches the table, not only the server: a database without the audit migration is not ready.
        with self.engine.connect() as conn:
            conn.execute(sa.select(audit_events.c.event_id).limit(1)).first()
        return {"store": "postgres"}
