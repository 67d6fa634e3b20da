"""loadboard schema access: runs, loads, summaries and the insights view (SQLAlchemy Core, psycopg 3).

Each repository works on the connection of a unit of work (adapters/unit_of_work.py) and never commits."""

# ruff: noqa: S608 - only the constant column lists and fixed filter clauses below are interpolated;
# every value travels as a bound parameter (bandit's B608 likewise, marked `nosec` where it fires).

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from ..domain.extracted_loads import Load

RUN_COLUMNS = (
    "id, status, trigger, requested_by, started_at, heartbeat_at, finished_at, portals, loads_count, "
    "summaries_count, summary, errors"
)
LOAD_COLUMNS = (
    "id, portal, portal_load_id, origin_city, origin_state, destination_city, destination_state, "
    "price, currency, price_text, posted_at, pickup_at, eta, equipment, weight_lbs, miles, "
    "first_seen_at, last_seen_at, last_run_id"
)
# Same ranking as db/queries/top_loads_by_insight.sql (a test keeps the two in step).
TOP_INSIGHTS = """
SELECT load_id, portal, portal_load_id, origin_city || ', ' || origin_state AS origin,
       destination_city || ', ' || destination_state AS destination, price, currency, miles, rate_per_mile,
       posted_at, eta, score, summary_text, insights, model, degraded
FROM loadboard.load_insights
WHERE score IS NOT NULL
ORDER BY score DESC NULLS LAST, rate_per_mile DESC NULLS LAST, posted_at DESC
LIMIT :limit"""


class Runs:
    """loadboard.extraction_runs: one row per run, its per-portal progress in ``portals`` (jsonb)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def abandon_stale(self, stale_after_seconds: int) -> None:
        """A worker that died mid-run leaves no heartbeat; free the slot instead of refusing forever."""
        self.connection.execute(
            text("""
            UPDATE loadboard.extraction_runs
            SET status = 'failed', finished_at = now(),
                errors = errors || jsonb_build_array('abandoned: no heartbeat for '
                                                    || :stale || ' s (worker stopped?)')
            WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => :stale)"""),
            {"stale": stale_after_seconds},
        )

    def start(self, trigger: str, requested_by: str | None, portals: list[str]) -> dict[str, Any] | None:
        """Insert a running run; None when another one is running (the partial unique index admits one)."""
        initial = {name: {"state": "pending"} for name in portals}
        try:
            # A savepoint: the refusal leaves the unit of work's transaction usable for reading the running run.
            with self.connection.begin_nested():
                row = (
                    self.connection.execute(
                        text(f"""
                    INSERT INTO loadboard.extraction_runs (trigger, requested_by, portals)
                    VALUES (:trigger, :requested_by, CAST(:portals AS jsonb)) RETURNING {RUN_COLUMNS}"""),  # nosec B608
                        {"trigger": trigger, "requested_by": requested_by, "portals": json.dumps(initial)},
                    )
                    .mappings()
                    .one()
                )
        except IntegrityError as exc:
            if "extraction_runs_one_running" not in str(exc.orig):
                raise
            return None
        return dict(row)

    def running_id(self) -> str | None:
        value = self.connection.execute(
            text("SELECT id FROM loadboard.extraction_runs WHERE status = 'running'")
        ).scalar()
        return str(value) if value else None

    def update_portal(self, run_id: str, portal: str, fields: dict[str, Any]) -> None:
        self.connection.execute(
            text("""
            UPDATE loadboard.extraction_runs
            SET portals = jsonb_set(portals, ARRAY[:portal],
                                    coalesce(portals -> :portal, '{}'::jsonb) || CAST(:fields AS jsonb)),
                heartbeat_at = now()
            WHERE id = :id AND status = 'running'"""),
            {"id": run_id, "portal": portal, "fields": json.dumps(fields, default=str)},
        )

    def finish(
        self,
        run_id: str,
        status: str,
        *,
        loads_count: int,
        summaries_count: int,
        summary: dict[str, Any] | None,
        errors: list[str],
    ) -> None:
        self.connection.execute(
            text("""
            UPDATE loadboard.extraction_runs
            SET status = :status, finished_at = now(), heartbeat_at = now(), loads_count = :loads,
                summaries_count = :summaries, summary = CAST(:summary AS jsonb),
                errors = errors || CAST(:errors AS jsonb)
            WHERE id = :id AND status = 'running'"""),
            {
                "id": run_id,
                "status": status,
                "loads": loads_count,
                "summaries": summaries_count,
                "summary": json.dumps(summary) if summary is not None else None,
                "errors": json.dumps(errors),
            },
        )

    def get(self, run_id: str) -> dict[str, Any] | None:
        row = (
            self.connection.execute(
                text(f"SELECT {RUN_COLUMNS} FROM loadboard.extraction_runs WHERE id = :id"),  # nosec B608
                {"id": run_id},
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def recent(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        where = "WHERE status = :status" if status else ""
        rows = (
            self.connection.execute(
                text(
                    f"SELECT {RUN_COLUMNS} FROM loadboard.extraction_runs {where} "  # nosec B608
                    "ORDER BY started_at DESC, id LIMIT :limit"
                ),
                {"limit": limit, "status": status},
            )
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]

    def last_started_at(self) -> datetime | None:
        value: datetime | None = self.connection.execute(
            text("SELECT max(started_at) FROM loadboard.extraction_runs")
        ).scalar()
        return value


class Loads:
    """loadboard.loads: one row per portal load, refreshed by every run that sees it again."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def upsert(self, run_id: str, loads: list[Load]) -> dict[tuple[str, str], str]:
        """Upsert on (portal, portal_load_id): a re-run refreshes a load instead of duplicating it.

        Returns each load's row id by (portal, portal load id)."""
        if not loads:
            return {}
        params = [
            {
                "portal": x.portal,
                "portal_load_id": x.portal_load_id,
                "origin_city": x.origin.city,
                "origin_state": x.origin.state,
                "destination_city": x.destination.city,
                "destination_state": x.destination.state,
                "price": x.price,
                "currency": x.currency,
                "price_text": x.price_text,
                "posted_at": x.posted_at,
                "pickup_at": x.pickup_at,
                "eta": x.eta,
                "equipment": x.equipment,
                "weight_lbs": x.weight_lbs,
                "miles": x.miles,
                "run_id": run_id,
            }
            for x in loads
        ]
        statement = text("""
            INSERT INTO loadboard.loads (portal, portal_load_id, origin_city, origin_state, destination_city,
                destination_state, price, currency, price_text, posted_at, pickup_at, eta, equipment,
                weight_lbs, miles, last_run_id)
            VALUES (:portal, :portal_load_id, :origin_city, :origin_state, :destination_city,
                :destination_state, :price, :currency, :price_text, :posted_at, :pickup_at, :eta, :equipment,
                :weight_lbs, :miles, :run_id)
            ON CONFLICT (portal, portal_load_id) DO UPDATE SET
                origin_city = EXCLUDED.origin_city, origin_state = EXCLUDED.origin_state,
                destination_city = EXCLUDED.destination_city, destination_state = EXCLUDED.destination_state,
                price = EXCLUDED.price, currency = EXCLUDED.currency, price_text = EXCLUDED.price_text,
                posted_at = EXCLUDED.posted_at, pickup_at = EXCLUDED.pickup_at, eta = EXCLUDED.eta,
                equipment = EXCLUDED.equipment, weight_lbs = EXCLUDED.weight_lbs, miles = EXCLUDED.miles,
                last_seen_at = now(), last_run_id = EXCLUDED.last_run_id
            RETURNING id, portal, portal_load_id""")
        ids: dict[tuple[str, str], str] = {}
        for param in params:
            row = self.connection.execute(statement, param).one()
            ids[(row.portal, row.portal_load_id)] = str(row.id)
        return ids

    def page(
        self,
        *,
        limit: int,
        offset: int,
        portal: str | None,
        origin_state: str | None,
        destination_state: str | None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of loads, most recently posted first, and how many the filters match in all."""
        filters: list[str] = []
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        for column, value in (
            ("portal", portal),
            ("origin_state", origin_state),
            ("destination_state", destination_state),
        ):
            if value:
                filters.append(f"{column} = :{column}")
                params[column] = value
        where = f"WHERE {' AND '.join(filters)}" if filters else ""
        rows = (
            self.connection.execute(
                text(
                    f"SELECT {LOAD_COLUMNS} FROM loadboard.loads {where} "  # nosec B608
                    "ORDER BY posted_at DESC, id LIMIT :limit OFFSET :offset"
                ),
                params,
            )
            .mappings()
            .all()
        )
        # `where` names only the fixed columns above; every value is a bound parameter.
        total: int = self.connection.execute(
            text(f"SELECT count(*) FROM loadboard.loads {where}"),  # nosec B608
            params,
        ).scalar_one()
        return [dict(r) for r in rows], total


class Summaries:
    """loadboard.summaries: gpt-service's answers, one row per load it scored and one for the run."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, run_id: str, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        self.connection.execute(
            text("""
            INSERT INTO loadboard.summaries (load_id, run_id, summary_text, insights, score, model,
                                             degraded, degraded_reason)
            VALUES (:load_id, :run_id, :summary_text, CAST(:insights AS jsonb), :score, :model, :degraded,
                    :degraded_reason)"""),
            [{**row, "run_id": run_id, "insights": json.dumps(row["insights"])} for row in rows],
        )
        return len(rows)


class Insights:
    """The materialized view loadboard.load_insights: each load with its latest summary."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def refresh(self) -> None:
        # CONCURRENTLY (thanks to the view's unique index): readers of /loads/top-insights are not blocked.
        self.connection.execute(text("REFRESH MATERIALIZED VIEW CONCURRENTLY loadboard.load_insights"))

    def top(self, limit: int = 5) -> list[dict[str, Any]]:
        return [dict(r) for r in self.connection.execute(text(TOP_INSIGHTS), {"limit": limit}).mappings().all()]
