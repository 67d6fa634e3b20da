"""Short-window cache of answers, keyed by a hash of the normalised payload.

In-process by default (each gunicorn worker keeps its own); with REDIS_URL set, one Redis shared by all
workers and replicas. A cache failure is a miss, never an error: the answer is only slower.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from cachetools import TTLCache

log = logging.getLogger(__name__)


class AnswerCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class NoCache:
    def get(self, key: str) -> str | None:
        return None

    def set(self, key: str, value: str) -> None:
        return None


class MemoryCache:
    def __init__(self, ttl_seconds: int, max_entries: int):
        self._entries: TTLCache[str, str] = TTLCache(maxsize=max_entries, ttl=ttl_seconds)
        self._lock = threading.Lock()  # TTLCache is not thread-safe and gunicorn runs threads

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._entries.get(key)

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._entries[key] = value


class RedisCache:
    PREFIX = "gpt-service:summary:"

    def __init__(self, url: str, ttl_seconds: int):
        import redis

        self._client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._ttl = ttl_seconds

    def get(self, key: str) -> str | None:
        try:
            value = self._client.get(self.PREFIX + key)
        except Exception as exc:  # noqa: BLE001 - any Redis failure is a miss
            log.warning("summary cache unavailable: %s", type(exc).__name__)
            return None
        if value is None:
            return None
        return value.decode("utf-8") if isinstance(value, bytes) else value

    def set(self, key: str, value: str) -> None:
        try:
            self._client.set(self.PREFIX + key, value.encode("utf-8"), ex=self._ttl)
        except Exception as exc:  # noqa: BLE001 - an answer that cannot be cached is still an answer
            log.warning("summary cache unavailable: %s", type(exc).__name__)


def make_cache(redis_url: str | None, ttl_seconds: int, max_entries: int) -> AnswerCache:
    if ttl_seconds <= 0:
        return NoCache()
    if redis_url:
        return RedisCache(redis_url, ttl_seconds)
    return MemoryCache(ttl_seconds, max_entries)
