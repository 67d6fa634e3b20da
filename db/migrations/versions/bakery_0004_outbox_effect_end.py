"""bakery: the outbox at version 3 of jobs' table: ``ended_at``, when the call of the attempt that last began
an action's effect ended, so that a retry waits out the vendor's search lag from then, not from when that
call began (a call can end well after its nominal timeout).

Revision ID: bakery_0004
Revises: bakery_0003
"""

from alembic import op
from jobs.outbox import downgrade_outbox_table, upgrade_outbox_table

revision = "bakery_0004"
down_revision = "bakery_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_outbox_table(op, "bakery", 2, 3)


def downgrade() -> None:
    downgrade_outbox_table(op, "bakery", 3, 2)
