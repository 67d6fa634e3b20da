"""Fixtures for a migrated database: a fresh database per test session, brought to its schema by the caller.

testkit knows no application's schema: the tests that use ``migrated_db_url`` provide a session fixture
``migrate_schema`` (a function of the database URL) in their conftest.py; the suite's root conftest.py gives
``suite_db.upgrade`` (Alembic to every head)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
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
def migrate_schema() -> Callable[[str], None]:
    """The caller's hook: brings an empty database at the URL it is given to the schema its tests need."""
    pytest.fail("no schema to migrate to: define a session fixture `migrate_schema` (url -> None) in a conftest.py")


@pytest.fixture(scope="session")
def migrated_db_url(postgres_url: str, migrate_schema: Callable[[str], None]) -> Iterator[str]:
    """A new database brought to the caller's schema by ``migrate_schema``."""
    with empty_database(postgres_url, "suite") as url:
        migrate_schema(url)
        yield url
