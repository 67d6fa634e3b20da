"""fleet: users, drivers, loads, driver-load assignments and the load lifecycle.

The one-active-load rule lives here, in two partial unique indexes, so it holds however many
requests race: the database, not the service, is the last word.

Revision ID: fleet_0001
Revises: 0001_base
"""

from alembic import op

revision = "fleet_0001"
down_revision = "0001_base"
branch_labels = ("fleet",)
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE fleet.users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        email text NOT NULL,
        password_hash text,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    # Logins look users up by e-mail whatever its case.
    op.execute("CREATE UNIQUE INDEX users_email_key ON fleet.users (lower(email))")

    op.execute("""
    CREATE TABLE fleet.drivers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        license_number text NOT NULL CONSTRAINT drivers_license_number_key UNIQUE,
        status text NOT NULL DEFAULT 'AVAILABLE'
            CONSTRAINT drivers_status_check CHECK (status IN ('AVAILABLE', 'ON_LOAD', 'INACTIVE')),
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute("CREATE INDEX drivers_created_at_idx ON fleet.drivers (created_at DESC, id)")

    op.execute("""
    CREATE TABLE fleet.loads (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        origin text NOT NULL CHECK (length(origin) BETWEEN 1 AND 200),
        destination text NOT NULL CHECK (length(destination) BETWEEN 1 AND 200),
        cargo_type text NOT NULL CHECK (length(cargo_type) BETWEEN 1 AND 100),
        status text NOT NULL DEFAULT 'OPEN'
            CONSTRAINT loads_status_check CHECK (status IN ('OPEN', 'ASSIGNED', 'COMPLETED', 'CANCELLED')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""")
    # GET /loads pages newest first, optionally filtered by status.
    op.execute("CREATE INDEX loads_created_at_idx ON fleet.loads (created_at DESC, id DESC)")
    op.execute("CREATE INDEX loads_status_created_at_idx ON fleet.loads (status, created_at DESC, id DESC)")

    op.execute("""
    CREATE TABLE fleet.driver_load_assignments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        driver_id uuid NOT NULL REFERENCES fleet.drivers (id),
        load_id uuid NOT NULL REFERENCES fleet.loads (id),
        status text NOT NULL DEFAULT 'ASSIGNED'
            CONSTRAINT assignments_status_check CHECK (status IN ('ASSIGNED', 'COMPLETED', 'CANCELLED')),
        assigned_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        cancelled_at timestamptz,
        CONSTRAINT assignments_final_time_check CHECK (
            (status = 'ASSIGNED' AND completed_at IS NULL AND cancelled_at IS NULL)
            OR (status = 'COMPLETED' AND completed_at IS NOT NULL AND cancelled_at IS NULL)
            OR (status = 'CANCELLED' AND cancelled_at IS NOT NULL AND completed_at IS NULL))
    )""")
    # The rule itself: at most one ASSIGNED row per driver, and per load.
    op.execute(
        "CREATE UNIQUE INDEX assignments_one_active_per_driver ON fleet.driver_load_assignments "
        "(driver_id) WHERE status = 'ASSIGNED'"
    )
    op.execute(
        "CREATE UNIQUE INDEX assignments_one_active_per_load ON fleet.driver_load_assignments "
        "(load_id) WHERE status = 'ASSIGNED'"
    )
    # History lookups by driver or load (and the foreign keys' ON DELETE checks).
    op.execute("CREATE INDEX assignments_driver_idx ON fleet.driver_load_assignments (driver_id, assigned_at DESC)")
    op.execute("CREATE INDEX assignments_load_idx ON fleet.driver_load_assignments (load_id, assigned_at DESC)")

    op.execute("""
    CREATE TABLE fleet.load_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        load_id uuid NOT NULL REFERENCES fleet.loads (id),
        type text NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute("CREATE INDEX load_events_load_idx ON fleet.load_events (load_id, created_at)")


def downgrade() -> None:
    for table in ("load_events", "driver_load_assignments", "loads", "drivers", "users"):
        op.execute(f"DROP TABLE IF EXISTS fleet.{table}")
