"""Run the suite's migrations from Python (tests, the local stack) as ``alembic`` would."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory


def _db_dir() -> Path:
    # A checkout keeps alembic.ini and migrations/ beside the package; an image installs the package into
    # its venv (not editable) and puts those files where SUITE_DB_DIR says.
    configured = os.environ.get("SUITE_DB_DIR")
    return Path(configured).resolve() if configured else Path(__file__).resolve().parent.parent


DB_DIR = _db_dir()
ALEMBIC_INI = DB_DIR / "alembic.ini"
SCHEMA_SQL = DB_DIR / "schema.sql"


def alembic_config(url: str | None = None) -> Config:
    if not ALEMBIC_INI.is_file():
        raise FileNotFoundError(f"{ALEMBIC_INI} not found: set SUITE_DB_DIR to the folder holding alembic.ini")
    config = Config(str(ALEMBIC_INI))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def heads() -> list[str]:
    """The revisions `upgrade` ends at (one per branch); reads the migration files, not the database."""
    return sorted(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade(url: str, target: str = "heads") -> None:
    command.upgrade(alembic_config(url), target)


def downgrade(url: str, target: str = "base") -> None:
    command.downgrade(alembic_config(url), target)
