"""The pause after ``insufficient_quota``: while it lasts the model is not asked (each call would fail the same).

In-process by default. With REDIS_URL set the pause is one Redis key with the cool-down as its TTL, so
every gunicorn worker and replica stops asking at once instead of each learning it on a failed call of
its own (mixed answers for a whole cool-down). A Redis failure falls back to the process's own pause:
the pause is an optimisation of cost and latency, never a reason to fail a summary.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

log = logging.getLogger(__name__)


class QuotaPause(Protocol):
    def start(self) -> None:
        """The model said insufficient_quota: pause it for the cool-down."""

    def active(self) -> bool:
        """True while the model must not be asked."""


class LocalQuotaPause:
    def __init__(self, cooldown_seconds: float):
        self.cooldown = cooldown_seconds
        self._until = 0.0
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            self._until = time.monotonic() + self.cooldown

    def active(self) -> bool:
        return time.monotonic() < self._until


class RedisQuotaPause:
    KEY = "gpt-service:quota-paused"

    def __init__(self, url: str, cooldown_seconds: float):
        import redis

        self.cooldown = cooldown_seconds
        # Short timeouts: this is asked before every model call, and a slow Redis must not slow summaries.
        self._client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._local = LocalQuotaPause(cooldown_seconds)

    def start(self) -> None:
        self._local.start()
        if self.cooldown <= 0:
            return
        try:
            self._client.set(self.KEY, b"insufficient_quota", px=max(1, int(self.cooldown * 1000)))
        except Exception as exc:  # noqa: BLE001 - the local pause still holds in this process
            log.warning("quota pause not shared (redis unavailable): %s", type(exc).__name__)

    def active(self) -> bool:
        if self._local.active():
            return True
        try:
            return bool(self._client.exists(self.KEY))
        except Exception as exc:  # noqa: BLE001 - unknown means "not paused": the model call decides
            log.warning("quota pause unknown (redis unavailable): %s", type(exc).__name__)
            return False


def make_quota_pause(redis_url: str | None, cooldown_seconds: float) -> QuotaPause:
    if redis_url:
        return RedisQuotaPause(redis_url, cooldown_seconds)
    return LocalQuotaPause(cooldown_seconds)
