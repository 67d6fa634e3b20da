"""bakery: an outside action keeps the id of the request that caused it.

The processor sends the action later, in a thread of its own; with the id on the row its log lines carry
the same ``request_id`` as the request's, so one order can be followed from its POST to its Slack message.
Null for actions written outside a request (the scheduled batch).

Revision ID: bakery_0002
Revises: bakery_0001
"""

from alembic import op

revision = "bakery_0002"
down_revision = "bakery_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE bakery.outbox ADD COLUMN request_id text")


def downgrade() -> None:
    op.execute("ALTER TABLE bakery.outbox DROP COLUMN request_id")
