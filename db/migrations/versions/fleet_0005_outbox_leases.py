"""fleet: the outbox at version 2 of jobs' table: a state per row (pending, held, done, dead), its own backoff,
fenced leases, the dead letter; ``published_at`` becomes ``done_at``. Published rows become done.

Revision ID: fleet_0005
Revises: fleet_0004
"""

from alembic import op
from jobs.outbox import downgrade_outbox_table, upgrade_outbox_table

revision = "fleet_0005"
down_revision = "fleet_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_outbox_table(op, "fleet", 1, 2)


def downgrade() -> None:
    downgrade_outbox_table(op, "fleet", 2, 1)
