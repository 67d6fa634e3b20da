"""The one way a service builds a SQLAlchemy engine for Postgres (psycopg 3), so pools behave alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .settings import sqlalchemy_url

if TYPE_CHECKING:
    from sqlalchemy import Engine


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int | None = None,
    pool_timeout: float = 10,
    connect_timeout: int = 5,
) -> Engine:
    """An engine that tests a pooled connection before use (Postgres restarts drop them) and keeps
    bound values out of error messages (they may be personal data or password hashes)."""
    # Imported here: services without a database do not need SQLAlchemy to import servicekit.
    from sqlalchemy import create_engine

    return create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_timeout=pool_timeout,
        connect_args={"connect_timeout": connect_timeout},
        hide_parameters=True,
    )
