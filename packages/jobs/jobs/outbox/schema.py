"""The outbox table, ``<schema>.job_outbox``, and the helpers the owning service's Alembic migrations call.

The table has versions, so that a migration written once keeps creating exactly what it created then:

- version 1: ``id, seq, type, payload, attributes, created_at, published_at, attempts, last_error``
  (published or not, nothing else);
- version 2: one row is one outside effect with a life of its own: ``state`` (``pending``, ``held``,
  ``done``, ``dead``), ``channel`` (the broker or vendor it goes to), ``next_attempt_at`` (its own
  backoff), ``lease_token`` and ``leased_until`` (the fenced lease of a claim), ``started_at`` (an attempt
  began the effect), ``result``, ``updated_at``; ``published_at`` became ``done_at``;
- version 3: ``started_token``, the lease token of the claim that last began the effect, and ``ended_at``,
  when that claim's call ended (it returned or raised): a later attempt counts the vendor's search lag from
  when that call really ended, and a claim lost before it began its effect does not use up an attempt.

A migration creates the current version with ``create_outbox_table(op, schema, version=3)`` and upgrades an
existing one with ``upgrade_outbox_table(op, schema, 2, 3)``; each has its inverse.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

TABLE_NAME = "job_outbox"
LATEST_VERSION = 3
DEFAULT_CHANNEL = "default"
STATES = ("pending", "held", "done", "dead")

_table_by_schema: dict[str, sa.Table] = {}


def _columns() -> list[sa.Column[Any]]:
    """The latest version's columns. A fresh list each call: a Column belongs to one Table."""
    return [
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        # Insertion order: uuids are random and now() is the same for a whole transaction.
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text),
        sa.Column("state", sa.Text, nullable=False, server_default=sa.text("'pending'")),
        sa.Column("channel", sa.Text, nullable=False, server_default=sa.text(f"'{DEFAULT_CHANNEL}'")),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("lease_token", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("leased_until", sa.DateTime(timezone=True)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("started_token", sa.BigInteger),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("result", JSONB),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def outbox_table(schema: str, metadata: sa.MetaData | None = None) -> sa.Table:
    """The outbox table of a schema (SQLAlchemy Core), as the latest version of the migrations leaves it."""
    if metadata is None and schema in _table_by_schema:
        return _table_by_schema[schema]
    table = sa.Table(
        TABLE_NAME,
        metadata if metadata is not None else sa.MetaData(),
        *_columns(),
        sa.CheckConstraint(f"state IN {STATES!r}", name=f"{TABLE_NAME}_state_check"),
        schema=schema,
    )
    if metadata is None:
        _table_by_schema[schema] = table
    return table


# --- migrations ------------------------------------------------------------------------------------------
def _v1_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text),
    ]


_V2_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any] | type[sa.types.TypeEngine[Any]], dict[str, Any]], ...] = (
    ("state", sa.Text, dict(nullable=False, server_default=sa.text("'pending'"))),
    ("channel", sa.Text, dict(nullable=False, server_default=sa.text(f"'{DEFAULT_CHANNEL}'"))),
    ("next_attempt_at", sa.DateTime(timezone=True), dict(nullable=False, server_default=sa.func.now())),
    ("lease_token", sa.BigInteger, dict(nullable=False, server_default=sa.text("0"))),
    ("leased_until", sa.DateTime(timezone=True), dict()),
    ("started_at", sa.DateTime(timezone=True), dict()),
    ("result", JSONB, dict()),
    ("updated_at", sa.DateTime(timezone=True), dict(nullable=False, server_default=sa.func.now())),
)


def _rows(schema: str, *columns: str) -> sa.TableClause:
    """A lightweight table of some columns, for the data steps of a migration."""
    return sa.table(TABLE_NAME, *(sa.column(name) for name in columns), schema=schema)


def _upgrade_1_to_2(op: Any, schema: str) -> None:
    op.drop_index(f"ix_{TABLE_NAME}_pending", table_name=TABLE_NAME, schema=schema)
    op.alter_column(TABLE_NAME, "published_at", new_column_name="done_at", schema=schema)
    for name, type_, options in _V2_COLUMNS:
        op.add_column(TABLE_NAME, sa.Column(name, type_, **options), schema=schema)
    rows = _rows(schema, "state", "done_at", "updated_at")
    op.execute(sa.update(rows).where(rows.c.done_at.is_not(None)).values(state="done", updated_at=rows.c.done_at))
    op.create_check_constraint(f"{TABLE_NAME}_state_check", TABLE_NAME, f"state IN {STATES!r}", schema=schema)
    # The relay's question: which pending rows of these channels are due, in the order they were written.
    op.create_index(
        f"ix_{TABLE_NAME}_due",
        TABLE_NAME,
        ["channel", "seq"],
        schema=schema,
        postgresql_where=sa.text("state = 'pending'"),
    )
    # The purge's: which rows were done before the retention period.
    op.create_index(
        f"ix_{TABLE_NAME}_done_at", TABLE_NAME, ["done_at"], schema=schema, postgresql_where=sa.text("state = 'done'")
    )
    # Operators': the dead letter and the held rows of a channel.
    op.create_index(
        f"ix_{TABLE_NAME}_parked",
        TABLE_NAME,
        ["channel", "state", "updated_at"],
        schema=schema,
        postgresql_where=sa.text("state IN ('held', 'dead')"),
    )


def _downgrade_2_to_1(op: Any, schema: str) -> None:
    for name in ("parked", "done_at", "due"):
        op.drop_index(f"ix_{TABLE_NAME}_{name}", table_name=TABLE_NAME, schema=schema)
    op.drop_constraint(f"{TABLE_NAME}_state_check", TABLE_NAME, schema=schema)
    # Version 1 knows published or not: a row that is not done is pending again (dead and held included).
    rows = _rows(schema, "state", "done_at")
    op.execute(sa.update(rows).where(rows.c.state != "done").values(done_at=None))
    for name, _, _ in reversed(_V2_COLUMNS):
        op.drop_column(TABLE_NAME, name, schema=schema)
    op.alter_column(TABLE_NAME, "done_at", new_column_name="published_at", schema=schema)
    op.create_index(
        f"ix_{TABLE_NAME}_pending", TABLE_NAME, ["seq"], schema=schema, postgresql_where=sa.text("published_at IS NULL")
    )


def _upgrade_2_to_3(op: Any, schema: str) -> None:
    op.add_column(TABLE_NAME, sa.Column("started_token", sa.BigInteger), schema=schema)
    op.add_column(TABLE_NAME, sa.Column("ended_at", sa.DateTime(timezone=True)), schema=schema)
    # Version 2 did not say which claim began the effect: the latest is taken to have, so that a claim in
    # flight during the upgrade still counts as an attempt once its lease runs out (as it did in version 2).
    rows = _rows(schema, "started_at", "lease_token", "started_token")
    op.execute(sa.update(rows).where(rows.c.started_at.is_not(None)).values(started_token=rows.c.lease_token))


def _downgrade_3_to_2(op: Any, schema: str) -> None:
    op.drop_column(TABLE_NAME, "ended_at", schema=schema)
    op.drop_column(TABLE_NAME, "started_token", schema=schema)


_UPGRADES = {1: _upgrade_1_to_2, 2: _upgrade_2_to_3}
_DOWNGRADES = {2: _downgrade_2_to_1, 3: _downgrade_3_to_2}


def create_outbox_table(op: Any, schema: str, *, version: int = 1) -> None:
    """For an Alembic migration's `upgrade()`: creates `<schema>.job_outbox` at `version` (1 by default, the
    version the first migrations that call this were written for)."""
    op.create_table(TABLE_NAME, *_v1_columns(), schema=schema)
    op.create_index(
        f"ix_{TABLE_NAME}_pending", TABLE_NAME, ["seq"], schema=schema, postgresql_where=sa.text("published_at IS NULL")
    )
    upgrade_outbox_table(op, schema, 1, version)


def drop_outbox_table(op: Any, schema: str, *, version: int = 1) -> None:
    """For the same migration's `downgrade()`."""
    downgrade_outbox_table(op, schema, version, 1)
    op.drop_index(f"ix_{TABLE_NAME}_pending", table_name=TABLE_NAME, schema=schema)
    op.drop_table(TABLE_NAME, schema=schema)


def upgrade_outbox_table(op: Any, schema: str, from_version: int, to_version: int) -> None:
    """Bring an existing outbox table from one version to a later one (rows kept)."""
    if not 1 <= from_version <= to_version <= LATEST_VERSION:
        raise ValueError(f"cannot upgrade the outbox table from version {from_version} to {to_version}")
    for version in range(from_version, to_version):
        _UPGRADES[version](op, schema)


def downgrade_outbox_table(op: Any, schema: str, from_version: int, to_version: int) -> None:
    """The inverse of `upgrade_outbox_table`."""
    if not 1 <= to_version <= from_version <= LATEST_VERSION:
        raise ValueError(f"cannot downgrade the outbox table from version {from_version} to {to_version}")
    for version in range(from_version, to_version, -1):
        _DOWNGRADES[version](op, schema)
