"""fleet's migrations go down and up again, and the rule's indexes are where the code expects them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.integration


def test_fleet_branch_downgrades_and_upgrades(postgres_url):
    from suite_db import downgrade, upgrade

    name = f"fleet_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        engine = create_engine(url)
        tables = set(inspect(engine).get_table_names(schema="fleet"))
        assert {"users", "drivers", "loads", "driver_load_assignments", "load_events", "job_outbox"} <= tables
        with engine.connect() as conn:
            indexes = {
                r[0]: r[1]
                for r in conn.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'fleet'")
                )
            }
        assert "WHERE (status = 'ASSIGNED'::text)" in indexes["assignments_one_active_per_driver"]
        assert "UNIQUE" in indexes["assignments_one_active_per_load"]
        engine.dispose()

        downgrade(url, "fleet@base")
        engine = create_engine(url)
        assert inspect(engine).get_table_names(schema="fleet") == []
        engine.dispose()
        upgrade(url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
