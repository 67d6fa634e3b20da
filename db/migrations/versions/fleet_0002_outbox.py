"""fleet: the transactional outbox the relay publishes fleet events from (jobs' table definition).

Revision ID: fleet_0002
Revises: fleet_0001
"""

from alembic import op
from jobs.outbox import create_outbox_table, drop_outbox_table

revision = "fleet_0002"
down_revision = "fleet_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_table(op, "fleet")


def downgrade() -> None:
    drop_outbox_table(op, "fleet")
