"""loadboard: extraction runs, loads from the portals, their summaries, and the insights view.

One running extraction at a time is a partial unique index, so two gunicorn workers (or a
scheduled run and a POST /runs) cannot both start one. The materialized view joins each load to its
latest summary and has a unique index, so it refreshes CONCURRENTLY while the API reads it.

Revision ID: loadboard_0001
Revises: 0001_base
"""

from alembic import op

revision = "loadboard_0001"
down_revision = "0001_base"
branch_labels = ("loadboard",)
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE loadboard.extraction_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        status text NOT NULL DEFAULT 'running'
            CONSTRAINT extraction_runs_status_check CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
        trigger text NOT NULL DEFAULT 'api' CONSTRAINT extraction_runs_trigger_check CHECK (trigger IN ('api', 'schedule')),
        requested_by text,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        portals jsonb NOT NULL DEFAULT '{}'::jsonb,
        loads_count integer NOT NULL DEFAULT 0,
        summaries_count integer NOT NULL DEFAULT 0,
        summary jsonb,
        errors jsonb NOT NULL DEFAULT '[]'::jsonb,
        CONSTRAINT extraction_runs_finished_check CHECK ((status = 'running') = (finished_at IS NULL))
    )""")
    op.execute(
        "CREATE UNIQUE INDEX extraction_runs_one_running ON loadboard.extraction_runs ((true)) WHERE status = 'running'"
    )
    op.execute("CREATE INDEX extraction_runs_started_at_idx ON loadboard.extraction_runs (started_at DESC, id)")

    op.execute("""
    CREATE TABLE loadboard.loads (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        portal text NOT NULL,
        portal_load_id text NOT NULL,
        origin_city text NOT NULL,
        origin_state char(2) NOT NULL,
        destination_city text NOT NULL,
        destination_state char(2) NOT NULL,
        price numeric(12, 2) CONSTRAINT loads_price_check CHECK (price IS NULL OR price > 0),
        currency char(3),
        price_text text NOT NULL DEFAULT '',
        posted_at timestamptz NOT NULL,
        pickup_at timestamptz,
        eta timestamptz,
        equipment text,
        weight_lbs integer,
        miles integer CONSTRAINT loads_miles_check CHECK (miles IS NULL OR miles > 0),
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        last_run_id uuid REFERENCES loadboard.extraction_runs (id) ON DELETE SET NULL,
        CONSTRAINT loads_portal_load_key UNIQUE (portal, portal_load_id),
        CONSTRAINT loads_currency_check CHECK ((price IS NULL) = (currency IS NULL))
    )""")
    # GET /loads: newest first, optionally for one portal or one lane.
    op.execute("CREATE INDEX loads_posted_at_idx ON loadboard.loads (posted_at DESC, id)")
    op.execute("CREATE INDEX loads_portal_posted_at_idx ON loadboard.loads (portal, posted_at DESC)")
    op.execute("CREATE INDEX loads_lane_idx ON loadboard.loads (origin_state, destination_state)")
    op.execute("CREATE INDEX loads_last_run_id_idx ON loadboard.loads (last_run_id)")

    # A row per load per run (load_id set), plus one row per run for the run's overall summary (load_id null).
    op.execute("""
    CREATE TABLE loadboard.summaries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        load_id uuid REFERENCES loadboard.loads (id) ON DELETE CASCADE,
        run_id uuid REFERENCES loadboard.extraction_runs (id) ON DELETE SET NULL,
        summary_text text NOT NULL,
        insights jsonb NOT NULL DEFAULT '[]'::jsonb,
        score numeric(4, 3) CONSTRAINT summaries_score_check CHECK (score IS NULL OR score BETWEEN 0 AND 1),
        model text NOT NULL,
        degraded boolean NOT NULL DEFAULT false,
        degraded_reason text,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    # The view's "latest summary of a load" and a run's summaries.
    op.execute("CREATE INDEX summaries_load_latest_idx ON loadboard.summaries (load_id, created_at DESC, id DESC)")
    op.execute("CREATE INDEX summaries_run_id_idx ON loadboard.summaries (run_id)")

    op.execute("""
    CREATE MATERIALIZED VIEW loadboard.load_insights AS
    SELECT l.id AS load_id, l.portal, l.portal_load_id,
           l.origin_city, l.origin_state, l.destination_city, l.destination_state,
           l.price, l.currency, l.miles, l.posted_at, l.pickup_at, l.eta, l.equipment, l.weight_lbs,
           CASE WHEN l.price IS NOT NULL AND l.miles > 0 THEN round(l.price / l.miles, 2) END AS rate_per_mile,
           s.id AS summary_id, s.summary_text, s.insights, s.score, s.model, s.degraded, s.run_id,
           s.created_at AS summarized_at
    FROM loadboard.loads l
    LEFT JOIN LATERAL (
        SELECT * FROM loadboard.summaries s
        WHERE s.load_id = l.id
        ORDER BY s.created_at DESC, s.id DESC
        LIMIT 1
    ) s ON true
    WITH DATA""")
    op.execute("CREATE UNIQUE INDEX load_insights_load_id_key ON loadboard.load_insights (load_id)")
    # The top-insights ranking (db/queries/top_loads_by_insight.sql).
    op.execute(
        "CREATE INDEX load_insights_rank_idx ON loadboard.load_insights "
        "(score DESC NULLS LAST, rate_per_mile DESC NULLS LAST, posted_at DESC)"
    )


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW IF EXISTS loadboard.load_insights")
    op.execute("DROP TABLE IF EXISTS loadboard.summaries")
    op.execute("DROP TABLE IF EXISTS loadboard.loads")
    op.execute("DROP TABLE IF EXISTS loadboard.extraction_runs")
