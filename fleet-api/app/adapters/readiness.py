"""Readiness details beyond servicekit's: the cache is optional, the outbox backlog is informative."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import redis
from servicekit import checks
from sqlalchemy import Engine, text

from .postgres import make_engine


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return make_engine(url, pool_size=1)


def cache_check(redis_url: str) -> Callable[[], dict]:
    """Redis down does not make fleet-api unready: GET /loads then answers from Postgres."""
    ping = checks.redis(redis_url)

    def check() -> dict:
        try:
            ping()
        except (redis.RedisError, OSError) as exc:
            return {"reachable": False, "note": f"loads served from postgres ({type(exc).__name__})"}
        return {"reachable": True}

    return check


def outbox_check(database_url: str) -> Callable[[], dict]:
    """How many events wait for the relay: a growing number means the relay or the bus is down."""

    def check() -> dict:
        with _engine(database_url).connect() as conn:
            pending = conn.execute(text("SELECT count(*) FROM fleet.job_outbox WHERE published_at IS NULL"))
            return {"pending_events": pending.scalar_one()}

    return check
