"""The migrations are the only source of the schema: reversible, repeatable, and matching schema.sql."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from suite_db import SCHEMA_SQL, alembic_config, downgrade, upgrade
from suite_db.cli import dump_schema, normalise_dump
from testkit.database import empty_database

pytestmark = pytest.mark.integration
SERVICE_SCHEMAS = {"fleet", "loadboard", "bakery"}


@pytest.fixture()
def empty_db(postgres_url: str):
    with empty_database(postgres_url, "mig") as url:
        yield url


def schemas_and_tables(url: str) -> dict[str, set[str]]:
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return {
            schema: set(inspector.get_table_names(schema=schema)) | set(inspector.get_view_names(schema=schema))
            for schema in inspector.get_schema_names()
            if schema in SERVICE_SCHEMAS
        }
    finally:
        engine.dispose()


def test_upgrade_creates_one_schema_per_service(empty_db: str) -> None:
    upgrade(empty_db)
    assert set(schemas_and_tables(empty_db)) == SERVICE_SCHEMAS


def test_upgrade_twice_changes_nothing(empty_db: str) -> None:
    upgrade(empty_db)
    before = dump_schema(empty_db)
    upgrade(empty_db)
    assert dump_schema(empty_db) == before


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(empty_db: str) -> None:
    upgrade(empty_db)
    at_head = dump_schema(empty_db)
    downgrade(empty_db, "base")
    assert schemas_and_tables(empty_db) == {}
    upgrade(empty_db)
    assert dump_schema(empty_db) == at_head


def test_every_revision_steps_down_and_up(empty_db: str) -> None:
    """Each revision's downgrade undoes exactly its upgrade, not only the whole chain at once."""
    script = ScriptDirectory.from_config(alembic_config(empty_db))
    upgrade(empty_db)
    for revision in script.walk_revisions():
        if revision.down_revision is None:
            continue
        before = dump_schema(empty_db)
        downgrade(empty_db, f"{revision.revision}@-1")
        upgrade(empty_db)
        assert dump_schema(empty_db) == before, f"revision {revision.revision} does not reverse cleanly"


def test_schema_sql_is_generated_from_the_migrations(migrated_db_url: str) -> None:
    expected = dump_schema(migrated_db_url)
    assert SCHEMA_SQL.exists(), "db/schema.sql is missing: run `make schema`"
    assert SCHEMA_SQL.read_text() == expected, "db/schema.sql drifted from the migrations: run `make schema`"


def test_dump_normalisation_drops_volatile_lines() -> None:
    dump = "-- Dumped by pg_dump version 15\n\\restrict abc123\nSET x = 1;\nCREATE SCHEMA fleet;\n\\unrestrict abc123\n"
    assert normalise_dump(dump) == "CREATE SCHEMA fleet;\n"


def test_migration_files_follow_the_branch_convention() -> None:
    versions = Path(SCHEMA_SQL.parent, "migrations", "versions")
    for path in versions.glob("*.py"):
        source = path.read_text()
        assert "def downgrade()" in source, f"{path.name} has no downgrade"
