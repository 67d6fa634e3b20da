"""servicekit.db.make_engine: the one engine factory of the services and the readiness checks."""

from __future__ import annotations

from servicekit.checks import engine_for
from servicekit.db import make_engine
from sqlalchemy import text


def test_a_plain_postgres_url_means_psycopg_3_and_parameters_stay_out_of_errors():
    engine = make_engine("postgresql://app:secret@127.0.0.1:5432/fleet", pool_size=3)
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.pool.size() == 3 and engine.pool._max_overflow == 3
        assert engine.hide_parameters is True
    finally:
        engine.dispose()


def test_readiness_checks_share_one_small_pool_per_url(postgres_url):
    engine = engine_for(postgres_url)
    assert engine is engine_for(postgres_url)
    assert engine.pool.size() == 1 and engine.pool._max_overflow == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
