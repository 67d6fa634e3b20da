"""Readiness details beyond servicekit's: the cache is optional, the outbox backlog is informative."""

from __future__ import annotations

from collections.abc import Callable

import redis
from jobs.outbox import pending_count
from servicekit import checks

from .outbox import SCHEMA

# Far below READINESS_TIMEOUT_SECONDS (2 s by default): a frozen Redis must give "reachable: false" in
# time, never a check that misses the readiness deadline and turns /readyz into a 503.
CACHE_PING_TIMEOUT_SECONDS = 0.3


def cache_check(redis_url: str, timeout: float = CACHE_PING_TIMEOUT_SECONDS) -> Callable[[], dict[str, object]]:
    """Redis down does not make fleet-api unready: GET /loads then answers from Postgres."""

    def check() -> dict[str, object]:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        except (redis.RedisError, OSError) as exc:
            return {"reachable": False, "note": f"loads served from postgres ({type(exc).__name__})"}
        finally:
            client.close()
        return {"reachable": True}

    return check


def outbox_check(database_url: str) -> Callable[[], dict[str, object]]:
    """How many events wait for the relay: a growing number means the relay or the bus is down."""

    def check() -> dict[str, object]:
        with checks.engine_for(database_url).connect() as conn:
            return {"pending_events": pending_count(conn, SCHEMA)}

    return check
