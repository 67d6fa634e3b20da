"""Run the suite's migrations from Python (tests, the local stack) as ``alembic`` would."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

DB_DIR = Path(__file__).resolve().parent.parent
ALEMBIC_INI = DB_DIR / "alembic.ini"
SCHEMA_SQL = DB_DIR / "schema.sql"


def alembic_config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, target: str = "heads") -> None:
    command.upgrade(alembic_config(url), target)


def downgrade(url: str, target: str = "base") -> None:
    command.downgrade(alembic_config(url), target)
