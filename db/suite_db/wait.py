"""Wait until Postgres accepts a connection, for a bounded time.

On a first boot the database's healthcheck can pass while the server still restarts after initdb; one
refused connection must not fail the migrations one-shot (and every service that waits for it).
"""

from __future__ import annotations

import logging

from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import OperationalError
from tenacity import Retrying, before_sleep_log, retry_if_exception_type, stop_after_delay, wait_exponential

log = logging.getLogger("suite_db")


def psycopg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def wait_for_database(url: str, timeout_seconds: float) -> None:
    """Return once `SELECT 1` succeeds; re-raise the last OperationalError after `timeout_seconds`."""
    engine = create_engine(psycopg_url(url), poolclass=pool.NullPool, connect_args={"connect_timeout": 5})
    try:
        for attempt in Retrying(
            stop=stop_after_delay(timeout_seconds),
            wait=wait_exponential(multiplier=0.25, max=5),
            retry=retry_if_exception_type(OperationalError),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        ):
            with attempt, engine.connect() as connection:
                connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
