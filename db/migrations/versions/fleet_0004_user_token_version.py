"""fleet: a token version per user, so that a user's tokens can be revoked.

Every token fleet-api issues carries the user's version (claim ``ver``); deleting the user, demoting it or
changing its password raises the version, and every service refuses tokens of an older one (see fleet-api's
README, "Token revocation"). Existing users start at 0, as do the tokens they already hold.

Revision ID: fleet_0004
Revises: fleet_0003
"""

from alembic import op

revision = "fleet_0004"
down_revision = "fleet_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE fleet.users ADD COLUMN token_version bigint NOT NULL DEFAULT 0 "
        "CONSTRAINT users_token_version_check CHECK (token_version >= 0)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE fleet.users DROP COLUMN token_version")
