"""Consumer-side idempotency: run a job's side effect at most once per job id, despite redelivery.

A store claims a key atomically. `RedisIdempotencyStore` uses `SET key NX PX ttl`; a store for
MongoDB inserts `{_id: key}` into a collection with the default unique `_id` index and treats
`DuplicateKeyError` as "already claimed". Any object with `claim`, `complete` and `release` fits.

Life of a key: `claim` marks it "running" for `lock_ttl` (so a consumer that dies mid-job frees it
after that long), `complete` marks it "done" for `done_ttl`, `release` (after a failure) deletes it
so that the redelivery runs the handler again.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from . import metrics
from .registry import JobContext


class JobInProgress(Exception):
    """Another consumer is running the same job right now; raising makes the provider redeliver later."""


class IdempotencyStore(Protocol):
    def claim(self, key: str, ttl_seconds: float) -> bool | str:
        """True if claimed now; otherwise the current state, "running" or "done"."""

    def complete(self, key: str, ttl_seconds: float) -> None: ...

    def release(self, key: str) -> None: ...


class RedisIdempotencyStore:
    def __init__(self, client: Any, *, prefix: str = "jobs:done:"):
        self.client = client
        self.prefix = prefix

    def claim(self, key: str, ttl_seconds: float) -> bool | str:
        name = self.prefix + key
        if self.client.set(name, "running", nx=True, px=int(ttl_seconds * 1000)):
            return True
        state = self.client.get(name)
        if isinstance(state, bytes):
            state = state.decode()
        return state or "running"

    def complete(self, key: str, ttl_seconds: float) -> None:
        self.client.set(self.prefix + key, "done", px=int(ttl_seconds * 1000))

    def release(self, key: str) -> None:
        self.client.delete(self.prefix + key)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisIdempotencyStore:
        import redis

        return cls(redis.Redis.from_url(url), **kwargs)


class MemoryIdempotencyStore:
    """For tests and the in-process provider; not shared between processes."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, ttl_seconds: float) -> bool | str:
        with self._lock:
            state = self._keys.get(key)
            if state and state[1] > time.monotonic():
                return state[0]
            self._keys[key] = ("running", time.monotonic() + ttl_seconds)
            return True

    def complete(self, key: str, ttl_seconds: float) -> None:
        with self._lock:
            self._keys[key] = ("done", time.monotonic() + ttl_seconds)

    def release(self, key: str) -> None:
        with self._lock:
            self._keys.pop(key, None)


class IdempotencyGuard:
    """Wraps a handler so that it runs once per job id.

    A duplicate of a finished job returns without running; a duplicate of a job still running
    elsewhere raises `JobInProgress` (the provider redelivers it later, and by then it is done or free).
    """

    def __init__(
        self,
        store: IdempotencyStore,
        *,
        lock_ttl_seconds: float = 300.0,
        done_ttl_seconds: float = 7 * 24 * 3600.0,
        namespace: str = "",
    ):
        self.store = store
        self.lock_ttl_seconds = lock_ttl_seconds
        self.done_ttl_seconds = done_ttl_seconds
        self.namespace = namespace

    def key(self, context: JobContext) -> str:
        return f"{self.namespace}{context.type}:{context.id}"

    def run(self, context: JobContext, fn: Callable[[], Any]) -> Any:
        key = self.key(context)
        claimed = self.store.claim(key, self.lock_ttl_seconds)
        if claimed is not True:
            if claimed == "done":
                metrics.duplicates.labels(context.type).inc()
                return None
            raise JobInProgress(f"job {context.id} is being handled by another consumer")
        try:
            result = fn()
        except BaseException:
            self.store.release(key)
            raise
        self.store.complete(key, self.done_ttl_seconds)
        return result

    def __call__(self, handler: Callable[[Any, JobContext], Any]) -> Callable[[Any, JobContext], Any]:
        """Decorator form: `@guard` above a handler `(payload, ctx)`."""

        @functools.wraps(handler)
        def guarded(payload: Any, context: JobContext) -> Any:
            return self.run(context, lambda: handler(payload, context))

        return guarded
