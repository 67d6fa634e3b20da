"""Transactional outbox: write a job in the same Postgres transaction as the change it describes.

The owning service's Alembic migration creates the table::

    from jobs.outbox import create_outbox_table, drop_outbox_table
    def upgrade():   create_outbox_table(op, "fleet")
    def downgrade(): drop_outbox_table(op, "fleet")

The service writes inside its own transaction::

    with engine.begin() as conn:
        conn.execute(insert(loads)...)
        enqueue(conn, "load.assigned", {...}, schema="fleet")

and a relay process publishes what was committed::

    OutboxRelay(engine, "fleet", jobs.get_dispatcher()).run_forever()

Rows are taken oldest first with `FOR UPDATE SKIP LOCKED` (several relays may run), marked published
in the same transaction once the broker took them, and left in place when it did not: the relay backs
off and retries the same rows, so none is lost or skipped. The row id is the job id, so a row published
twice (a relay dying between publish and commit) reaches consumers with the same id and their
idempotency guard drops the duplicate. A row written while a request is served carries that request's id
in its attributes (``request_id``), so the relay's and the consumers' log lines of it can be found by that id.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.engine import Connection, Engine

from .dispatcher import Dispatcher
from .errors import PublishError
from .registry import JobRegistry
from .spi import Job, with_request_id

log = logging.getLogger("jobs.outbox")

TABLE_NAME = "job_outbox"
_table_by_schema: dict[str, sa.Table] = {}


def _columns() -> list[sa.Column]:
    # A fresh list each call: a Column belongs to one Table, and the migration builds its own.
    return [
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        # Insertion order: uuids are random and now() is the same for a whole transaction.
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text),
    ]


def outbox_table(schema: str, metadata: sa.MetaData | None = None) -> sa.Table:
    """The outbox table of a schema (SQLAlchemy Core), the same definition the migration creates."""
    if metadata is None and schema in _table_by_schema:
        return _table_by_schema[schema]
    table = sa.Table(
        TABLE_NAME,
        metadata if metadata is not None else sa.MetaData(),
        *_columns(),
        sa.Index(f"ix_{TABLE_NAME}_pending", "seq", postgresql_where=sa.text("published_at IS NULL")),
        schema=schema,
    )
    if metadata is None:
        _table_by_schema[schema] = table
    return table


def create_outbox_table(op: Any, schema: str) -> None:
    """For an Alembic migration's `upgrade()`: creates `<schema>.job_outbox` and its index."""
    op.create_table(TABLE_NAME, *_columns(), schema=schema)
    op.create_index(
        f"ix_{TABLE_NAME}_pending", TABLE_NAME, ["seq"], schema=schema, postgresql_where=sa.text("published_at IS NULL")
    )


def drop_outbox_table(op: Any, schema: str) -> None:
    """For the same migration's `downgrade()`."""
    op.drop_index(f"ix_{TABLE_NAME}_pending", table_name=TABLE_NAME, schema=schema)
    op.drop_table(TABLE_NAME, schema=schema)


def enqueue(
    connection: Connection,
    job_type: str,
    payload: BaseModel | Mapping[str, Any],
    *,
    schema: str,
    registry: JobRegistry | None = None,
    job_id: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> str:
    """Insert a job row in the caller's transaction; returns the job id.

    The payload is validated against the registered model first (`InvalidPayload`, nothing written).
    """
    if registry is None:
        from .registry import default_registry

        registry = default_registry
    data = registry.get(job_type).validate(payload).model_dump(mode="json")
    row_id = uuid.UUID(job_id) if job_id else uuid.uuid4()
    connection.execute(
        sa.insert(outbox_table(schema)).values(
            id=row_id, type=job_type, payload=data, attributes=with_request_id(attributes)
        )
    )
    return str(row_id)


def pending_count(connection: Connection, schema: str) -> int:
    """Rows not yet published: a growing number means the relay or the broker is down."""
    table = outbox_table(schema)
    return connection.execute(
        sa.select(sa.func.count()).select_from(table).where(table.c.published_at.is_(None))
    ).scalar_one()


class OutboxRelay:
    """Publishes committed outbox rows through a dispatcher, in insertion order, never losing one."""

    def __init__(
        self,
        engine: Engine,
        schema: str,
        dispatcher: Dispatcher,
        *,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        backoff_initial: float = 0.5,
        backoff_max: float = 5.0,
        probe_interval: float = 0.5,
        retention: timedelta | None = timedelta(days=7),
        purge_every: float = 3600.0,
    ):
        self.engine = engine
        self.schema = schema
        self.table = outbox_table(schema)
        self.dispatcher = dispatcher
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.probe_interval = probe_interval
        self.retention = retention
        self.purge_every = purge_every
        self.stop_event = threading.Event()

    def run_once(self) -> int:
        """Publish one batch; returns how many rows were published. Raises `PublishError` when the
        broker refused a row (the rows before it stay published, that row and the rest stay pending)."""
        t = self.table
        published: list[uuid.UUID] = []
        failure: tuple[uuid.UUID, Exception] | None = None
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(t.c.id, t.c.type, t.c.payload, t.c.attributes)
                .where(t.c.published_at.is_(None))
                .order_by(t.c.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                job = Job(type=row.type, payload=row.payload, id=str(row.id), attributes=dict(row.attributes or {}))
                try:
                    self.dispatcher.send(job)
                except Exception as exc:  # noqa: BLE001 - whatever the broker's client raises
                    # Later rows wait too, so that jobs leave in the order they were written.
                    conn.execute(
                        sa.update(t)
                        .where(t.c.id == row.id)
                        .values(attempts=t.c.attempts + 1, last_error=str(exc)[:2000])
                    )
                    failure = (row.id, exc)
                    break
                published.append(row.id)
            if published:
                conn.execute(sa.update(t).where(t.c.id.in_(published)).values(published_at=sa.func.now()))
        if failure is not None:
            raise PublishError(f"outbox row {failure[0]} not published: {failure[1]}") from failure[1]
        return len(published)

    def purge(self) -> int:
        """Delete published rows older than the retention period."""
        if self.retention is None:
            return 0
        cutoff = datetime.now(UTC) - self.retention
        with self.engine.begin() as conn:
            result = conn.execute(sa.delete(self.table).where(self.table.c.published_at < cutoff))
        return result.rowcount or 0

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return pending_count(conn, self.schema)

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Poll until `stop` (or `self.stop_event`) is set, backing off exponentially (capped at
        `backoff_max`) while the broker or the database is down. While the broker is the one down, it is
        probed every `probe_interval` seconds and publishing resumes as soon as it answers, so recovery
        after an outage of any length costs at most one probe interval, not a whole backoff step."""
        stop = stop or self.stop_event
        delay = self.backoff_initial
        next_purge = time.monotonic() + self.purge_every
        while not stop.is_set():
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + self.purge_every
                try:
                    self.purge()
                except sa.exc.SQLAlchemyError:
                    log.warning("outbox relay: purge failed; retried later", exc_info=True)
            try:
                count = self.run_once()
            except Exception as exc:  # noqa: BLE001 - broker or database down: wait, retry the same rows
                log.warning("outbox relay backing off up to %.1fs: %s", delay, exc)
                if isinstance(exc, PublishError):
                    self._wait_for_broker(stop, delay)
                else:
                    stop.wait(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff_initial
            if count < self.batch_size:
                stop.wait(self.poll_interval)

    def _wait_for_broker(self, stop: threading.Event, delay: float) -> None:
        """Wait `delay` seconds at most, returning early once the broker answers a ping."""
        deadline = time.monotonic() + delay
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.wait(min(self.probe_interval, remaining)):
                return
            try:
                self.dispatcher.provider.ping()
            except Exception:  # noqa: BLE001, S112 - still down: keep waiting
                continue
            log.info("outbox relay: the broker answers again; publishing")
            return

    def stop(self) -> None:
        self.stop_event.set()
