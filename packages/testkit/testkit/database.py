"""Fixtures for a migrated database: a fresh database per test session, at Alembic's head."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def empty_database(postgres_url: str, prefix: str = "test") -> Iterator[str]:
    """A new, empty database on the server of ``postgres_url``; dropped (connections and all) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_db_url(postgres_url: str) -> Iterator[str]:
    """A new database with every migration applied (``alembic upgrade heads``)."""
    from suite_db import upgrade

    with empty_database(postgres_url, "suite") as url:
        upgrade(url)
        yield url
