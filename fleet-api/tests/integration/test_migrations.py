"""fleet's migrations go down and up again, and the rule's indexes are where the code expects them."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text
from testkit.database import empty_database

pytestmark = pytest.mark.integration


def test_fleet_branch_downgrades_and_upgrades(postgres_url):
    from suite_db import downgrade, upgrade

    with empty_database(postgres_url, "fleet_mig") as url:
        upgrade(url)
        engine = create_engine(url)
        tables = set(inspect(engine).get_table_names(schema="fleet"))
        assert {"users", "drivers", "loads", "driver_load_assignments", "load_events", "job_outbox"} <= tables
        with engine.connect() as conn:
            indexes = {
                r[0]: r[1]
                for r in conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'fleet'"))
            }
        assert "WHERE (status = 'ASSIGNED'::text)" in indexes["assignments_one_active_per_driver"]
        assert "UNIQUE" in indexes["assignments_one_active_per_load"]
        engine.dispose()

        downgrade(url, "fleet@base")
        engine = create_engine(url)
        assert inspect(engine).get_table_names(schema="fleet") == []
        engine.dispose()
        upgrade(url)
