"""bakery: cakes and their ingredients, orders, Jira batches, employees, and the outbox of outside actions.

Amounts are numeric, never float: grams keep up to three decimals (a milligram) and unit counts are whole,
so an order's required ingredients are exact. An order keeps a copy of what it needs, so deleting or
changing a cake later never changes an order already placed.

Every outside action (a Jira ticket, a Slack message, an e-mail, a Drive line, a GitHub grant) is a row of
``bakery.outbox`` written in the same transaction as the change that caused it; a processor claims due rows
with ``FOR UPDATE SKIP LOCKED`` and retries them with backoff, so none is lost while an API is down.

Revision ID: bakery_0001
Revises: 0001_base
"""

from alembic import op

revision = "bakery_0001"
down_revision = "0001_base"
branch_labels = ("bakery",)
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE bakery.cakes (
        id text PRIMARY KEY CONSTRAINT cakes_id_check CHECK (id ~ '^[a-z0-9]+(_[a-z0-9]+)*$'),
        name text NOT NULL CONSTRAINT cakes_name_check CHECK (length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute("""
    CREATE TABLE bakery.cake_ingredients (
        cake_id text NOT NULL REFERENCES bakery.cakes (id) ON DELETE CASCADE,
        position integer NOT NULL,
        name text NOT NULL CONSTRAINT cake_ingredients_name_check CHECK (length(name) BETWEEN 1 AND 200),
        amount numeric(12, 3) NOT NULL CONSTRAINT cake_ingredients_amount_check CHECK (amount > 0),
        unit text NOT NULL CONSTRAINT cake_ingredients_unit_check CHECK (unit IN ('g', 'unit')),
        PRIMARY KEY (cake_id, name),
        CONSTRAINT cake_ingredients_whole_units CHECK (unit = 'g' OR amount = trunc(amount))
    )""")

    # One row per Jira ticket the bakery asks for: one per order (JIRA_MODE=per-order) or one per batch run.
    op.execute("""
    CREATE TABLE bakery.ingredient_batches (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind text NOT NULL CONSTRAINT ingredient_batches_kind_check CHECK (kind IN ('order', 'daily')),
        trigger text NOT NULL CONSTRAINT ingredient_batches_trigger_check CHECK (trigger IN ('order', 'api', 'schedule')),
        ingredients jsonb NOT NULL,
        ticket_key text,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    # The scheduled batch of a day runs once, however many workers wake up at the hour.
    op.execute("""
    CREATE TABLE bakery.schedule_runs (
        day date PRIMARY KEY,
        batch_id bigint REFERENCES bakery.ingredient_batches (id),
        ran_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute("""
    CREATE TABLE bakery.orders (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        customer text NOT NULL CONSTRAINT orders_customer_check CHECK (length(customer) BETWEEN 1 AND 200),
        recipe text NOT NULL,
        recipe_name text NOT NULL,
        persons integer NOT NULL CONSTRAINT orders_persons_check CHECK (persons > 0),
        quantity integer NOT NULL CONSTRAINT orders_quantity_check CHECK (quantity > 0),
        extra_ingredients jsonb NOT NULL DEFAULT '[]'::jsonb,
        required_ingredients jsonb NOT NULL,
        state text NOT NULL DEFAULT 'placed' CONSTRAINT orders_state_check CHECK (state IN ('placed', 'ready', 'cancelled')),
        batch_id bigint REFERENCES bakery.ingredient_batches (id),
        ticket_key text,
        ready_at timestamptz,
        ready_channel text CONSTRAINT orders_ready_channel_check CHECK (ready_channel IN ('slack', 'email')),
        ready_recipient text,
        ready_notified_at timestamptz,
        cancelled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT orders_cancelled_check CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL))
    )""")
    # The next batch takes the orders no ticket covers yet; cake deletion looks for open orders of a recipe.
    op.execute(
        "CREATE INDEX orders_unbatched_idx ON bakery.orders (id) WHERE batch_id IS NULL AND state <> 'cancelled'"
    )
    op.execute("CREATE INDEX orders_recipe_open_idx ON bakery.orders (recipe) WHERE state = 'placed'")
    op.execute("CREATE INDEX orders_ticket_key_idx ON bakery.orders (ticket_key)")
    op.execute("CREATE INDEX orders_batch_id_idx ON bakery.orders (batch_id)")

    op.execute("""
    CREATE TABLE bakery.employees (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        first_name text NOT NULL CONSTRAINT employees_first_name_check CHECK (length(first_name) BETWEEN 1 AND 100),
        last_name text NOT NULL CONSTRAINT employees_last_name_check CHECK (length(last_name) BETWEEN 1 AND 100),
        github_username text,
        developer boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT employees_developer_needs_github CHECK (NOT developer OR github_username IS NOT NULL)
    )""")

    op.execute("""
    CREATE TABLE bakery.outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        integration text NOT NULL
            CONSTRAINT outbox_integration_check CHECK (integration IN ('jira', 'slack', 'email', 'drive', 'github')),
        action text NOT NULL,
        payload jsonb NOT NULL,
        state text NOT NULL DEFAULT 'pending' CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'done', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        result jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""")
    # The processor's question: which pending actions of the configured integrations are due, oldest first.
    op.execute(
        "CREATE INDEX outbox_due_idx ON bakery.outbox (integration, next_attempt_at, id) WHERE state = 'pending'"
    )
    op.execute("CREATE INDEX outbox_integration_updated_idx ON bakery.outbox (integration, updated_at DESC, id DESC)")


def downgrade() -> None:
    for table in ("outbox", "employees", "orders", "schedule_runs", "ingredient_batches", "cake_ingredients", "cakes"):
        op.execute(f"DROP TABLE IF EXISTS bakery.{table}")
