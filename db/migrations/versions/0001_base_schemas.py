"""One schema per owning service; each service's tables come in its own branch of revisions.

Revision ID: 0001_base
Revises:
"""

from alembic import op

revision = "0001_base"
down_revision = None
branch_labels = ("base",)
depends_on = None

SCHEMAS = ("fleet", "loadboard", "bakery")


def upgrade() -> None:
    for schema in SCHEMAS:
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


def downgrade() -> None:
    for schema in SCHEMAS:
        op.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
