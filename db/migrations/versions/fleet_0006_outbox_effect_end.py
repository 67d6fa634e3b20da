"""fleet: the outbox at version 3 of jobs' table (``ended_at``, when an attempt's outside call ended). fleet's
relay publishes to the bus and begins no reconciled effect, so the column stays empty; the table keeps the one
shape the suite's outbox code reads.

Revision ID: fleet_0006
Revises: fleet_0005
"""

from alembic import op
from jobs.outbox import downgrade_outbox_table, upgrade_outbox_table

revision = "fleet_0006"
down_revision = "fleet_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_outbox_table(op, "fleet", 2, 3)


def downgrade() -> None:
    downgrade_outbox_table(op, "fleet", 3, 2)
