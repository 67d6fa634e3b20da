"""The loadboard migration: reversible on its own branch, one running run at a time, a view that
refreshes concurrently, and the documented top-5 query."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from suite_db import downgrade, upgrade
from testkit.database import empty_database

pytestmark = pytest.mark.integration
TOP_QUERY = Path(__file__).resolve().parents[3] / "db" / "queries" / "top_loads_by_insight.sql"


@pytest.fixture()
def fresh_db(postgres_url):
    with empty_database(postgres_url, "lb") as url:
        upgrade(url)
        engine = create_engine(url)
        yield url, engine
        engine.dispose()


def loadboard_relations(engine) -> set[str]:
    inspector = inspect(engine)
    return set(inspector.get_table_names(schema="loadboard")) | set(
        inspector.get_materialized_view_names(schema="loadboard")
    )


def test_the_loadboard_branch_downgrades_alone_and_upgrades_again(fresh_db):
    url, engine = fresh_db
    assert loadboard_relations(engine) == {"extraction_runs", "loads", "summaries", "load_insights"}
    downgrade(url, "loadboard@0001_base")
    engine.dispose()
    assert loadboard_relations(engine) == set()
    assert inspect(engine).get_table_names(schema="fleet")  # the other branches are untouched
    upgrade(url)
    engine.dispose()
    assert loadboard_relations(engine) == {"extraction_runs", "loads", "summaries", "load_insights"}


def test_only_one_run_can_be_running(fresh_db):
    _, engine = fresh_db
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO loadboard.extraction_runs DEFAULT VALUES"))
        conn.execute(text("INSERT INTO loadboard.extraction_runs (status, finished_at) VALUES ('succeeded', now())"))
    with pytest.raises(IntegrityError, match="extraction_runs_one_running"), engine.begin() as conn:
        conn.execute(text("INSERT INTO loadboard.extraction_runs DEFAULT VALUES"))


def test_loads_are_unique_per_portal_and_the_view_ranks_the_latest_summary(fresh_db):
    _, engine = fresh_db
    insert_load = text("""
        INSERT INTO loadboard.loads (portal, portal_load_id, origin_city, origin_state, destination_city,
            destination_state, price, currency, posted_at, miles)
        VALUES (:portal, :pid, 'Dallas', 'TX', 'Atlanta', 'GA', :price, 'USD', now(), :miles) RETURNING id""")
    with engine.begin() as conn:
        ids = [
            conn.execute(
                insert_load, {"portal": "jbhunt", "pid": f"J{i}", "price": 1000 + 100 * i, "miles": 500}
            ).scalar_one()
            for i in range(7)
        ]
        for i, load_id in enumerate(ids):
            # An old summary with a high score, then the latest one that counts.
            conn.execute(
                text(
                    "INSERT INTO loadboard.summaries (load_id, summary_text, score, model, created_at) "
                    "VALUES (:id, 'old', 0.99, 'm', now() - interval '1 day')"
                ),
                {"id": load_id},
            )
            conn.execute(
                text(
                    "INSERT INTO loadboard.summaries (load_id, summary_text, score, model) "
                    "VALUES (:id, 'new', :score, 'm')"
                ),
                {"id": load_id, "score": 0.5 if i < 4 else 0.1 * i},
            )
    with pytest.raises(IntegrityError, match="loads_portal_load_key"), engine.begin() as conn:
        conn.execute(insert_load, {"portal": "jbhunt", "pid": "J1", "price": 1, "miles": 1})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("REFRESH MATERIALIZED VIEW CONCURRENTLY loadboard.load_insights"))
        top = conn.execute(text(TOP_QUERY.read_text())).all()
    assert len(top) == 5
    assert [r.summary_text for r in top] == ["new"] * 5
    # J6 scores 0.6; then the 0.5s by rate per mile: J5 (3.00), J3 (2.60), J2, J1 (J0 drops out);
    # J4 scores 0.4.
    assert [r.portal_load_id for r in top] == ["J6", "J5", "J3", "J2", "J1"]
    assert float(top[1].rate_per_mile) == 3.0
