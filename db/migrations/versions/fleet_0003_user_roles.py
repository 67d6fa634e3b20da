"""fleet: a role per user (admin or user), for who may create and read users.

Existing users become plain users; fleet-api makes its configured demo user an admin at start-up.

Revision ID: fleet_0003
Revises: fleet_0002
"""

from alembic import op

revision = "fleet_0003"
down_revision = "fleet_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE fleet.users ADD COLUMN role text NOT NULL DEFAULT 'user' "
        "CONSTRAINT users_role_check CHECK (role IN ('admin', 'user'))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE fleet.users DROP COLUMN role")
