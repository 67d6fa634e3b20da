"""audit: the audit trail of fleet events, as one JSONB document per event (the Postgres audit store).

MongoDB keeps the trail in compose and production; this schema is the durable store of the local stack
(AUDIT_STORE=postgres), so that the trail survives restarts and several consumers can share it. The
event id is the primary key: a redelivered event is a no-op however many consumers race. The columns
beside the document are the ones the trail is queried and ordered by.

Revision ID: audit_0001
Revises: 0001_base
"""

from alembic import op

revision = "audit_0001"
down_revision = "0001_base"
branch_labels = ("audit",)
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS audit")
    op.execute("""
    CREATE TABLE audit.audit_events (
        event_id text PRIMARY KEY,
        type text NOT NULL,
        driver_id text NOT NULL,
        load_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        notified_at timestamptz,
        document jsonb NOT NULL
    )""")
    op.execute("CREATE INDEX audit_events_load_trail ON audit.audit_events (load_id, occurred_at, recorded_at)")
    op.execute("CREATE INDEX audit_events_driver_trail ON audit.audit_events (driver_id, occurred_at, recorded_at)")
    op.execute("CREATE INDEX audit_events_trail ON audit.audit_events (occurred_at, recorded_at)")


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS audit CASCADE")
