"""The ``GET /loads`` cache: Redis with a 60 s TTL, plus a per-process copy kept honest by Redis.

Keys. Every write to loads bumps ``fleet:loads:generation``; pages live under
``fleet:loads:page:<generation>:<query>`` with the TTL. A bump therefore invalidates every page of
every query at once, and a page filled from a read that raced a write lands under the old
generation, where nobody looks any more.

Local copy. Asking Redis on every request costs a round trip that a bare endpoint does not pay
(about a third of the throughput). So each process also keeps the pages it has seen, and keeps a
RESP3 connection with ``CLIENT TRACKING ON BCAST PREFIX fleet:loads:generation``
(servicekit.tracking): Redis pushes an invalidation to every process whenever any process bumps the
generation. Before a local copy is used the pushes already received are drained (one non-blocking
poll), so a request that follows a write, on any worker, sees the write. When the tracking
connection is down (or stops answering its PINGs), or Redis is, the local copy is not used at all;
when Redis is down, pages come from Postgres and count as misses.

Breaker. After a Redis failure (refused, or a timeout: a frozen Redis) the cache is skipped altogether
for a cool-down: reads come from Postgres and writes do not wait on Redis, each one only recording that
an invalidation is owed. A background thread pings Redis every cool-down; once it answers, the owed
invalidation (one generation bump) is applied *before* the breaker closes, so no page cached before a
write made during the outage is served again. Opening and closing are logged and counted
(``fleet_loads_cache_breaker_transitions_total``); ``fleet_loads_cache_breaker_open`` gives the state.

"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from servicekit import counter, gauge
from servicekit.tracking import InvalidationTracker

log = logging.getLogger("fleet_api.cache")

GENERATION_KEY = "fleet:loads:generation"
PAGE_PREFIX = "fleet:loads:page:"

_requests = counter(
    "fleet_loads_cache_requests_total", "GET /loads answers by cache result and source", ["result", "source"]
)
# Children looked up once: a labels() lookup costs more than the increment on the warm path.
_hit_local = _requests.labels("hit", "local")
_hit_redis = _requests.labels("hit", "redis")
_miss_postgres = _requests.labels("miss", "postgres")
_errors = counter("fleet_loads_cache_errors_total", "Redis failures of the loads cache by operation", ["operation"])
_invalidations = counter(
    "fleet_loads_cache_invalidations_total",
    "Local copies dropped on a Redis invalidation push or reconnect",
    ["reason"],
)

_breaker_transitions = counter(
    "fleet_loads_cache_breaker_transitions_total", "The loads cache's Redis breaker opening and closing", ["state"]
)
_breaker_open = gauge(
    "fleet_loads_cache_breaker_open", "1 while the loads cache skips Redis after a failure", multiprocess_mode="livemax"
)
_owed = counter(
    "fleet_loads_cache_invalidations_owed_total", "Writes whose cache invalidation waited for Redis to return"
)


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    hit: bool
    source: str  # local | redis | postgres


@dataclass
class _LocalEntry:
    generation: bytes
    expires_at: float
    page: CachedPage  # built once, handed out as is (it is frozen)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


class LoadsCache:
    def __init__(self, redis_url: str, ttl_seconds: int = 60, mode: str = "local", retry_after_seconds: float = 1.0):
        if mode not in ("local", "redis", "off"):
            raise ValueError(f"unknown cache mode {mode!r}")
        self.ttl = ttl_seconds
        self.mode = mode
        self.retry_after = retry_after_seconds
        self._redis = redis.Redis.from_url(
            redis_url, socket_connect_timeout=0.5, socket_timeout=1.0, health_check_interval=0
        )
        self._lock = threading.Lock()
        self._tracker: InvalidationTracker | None = None
        self._tracker_retry_at = 0.0
        # The breaker: while open, Redis is not asked at all; _owed says a write's invalidation waits.
        self._open = False
        self._owed = False
        self._prober: threading.Thread | None = None
        # Bumped on every invalidation and reconnect: a value read from Redis before a bump is not
        # kept locally, even if the bump was processed while the read was in flight.
        self._epoch = 0
        self._generation: bytes | None = None
        self._local: dict[str, _LocalEntry] = {}

    # --- reading ----------------------------------------------------------------------------------

    def get(self, part: str, fill: Callable[[], bytes]) -> CachedPage:
        if self.mode == "off":
            return self._from_postgres(fill, count=True)
        if self.mode == "local":
            page = self._local_page(part)
            if page is not None:
                _hit_local.inc()
                return page
        if self._open:
            return self._from_postgres(fill, count=True)
        with self._lock:
            epoch = self._epoch
        try:
            generation = self._current_generation()
            key = f"{PAGE_PREFIX}{generation.decode()}:{part}"
            pipe = self._redis.pipeline(transaction=False)
            pipe.get(key)
            pipe.pttl(key)
            stored, pttl = pipe.execute()
        except redis.RedisError as exc:
            self._redis_failed("read", exc)
            return self._from_postgres(fill, count=True)
        if stored is not None:
            etag, _, body = stored.partition(b"\n")
            self._remember(epoch, generation, part, etag.decode(), body, pttl)
            _hit_redis.inc()
            return CachedPage(body, etag.decode(), True, "redis")
        page = self._from_postgres(fill, count=False)
        _miss_postgres.inc()
        try:
            self._redis.set(key, page.etag.encode() + b"\n" + page.body, ex=self.ttl)
        except redis.RedisError as exc:
            self._redis_failed("write", exc)
            return page
        self._remember(epoch, generation, part, page.etag, page.body, self.ttl * 1000)
        return page

    def _from_postgres(self, fill: Callable[[], bytes], count: bool) -> CachedPage:
        body = fill()
        if count:
            _miss_postgres.inc()
        return CachedPage(body, etag_of(body), False, "postgres")

    def _current_generation(self) -> bytes:
        generation = self._redis.get(GENERATION_KEY)
        if generation is None:
            # Seeded from the clock, so a generation recreated after a flush never reuses old pages.
            self._redis.set(GENERATION_KEY, str(time.time_ns()), nx=True)
            generation = self._redis.get(GENERATION_KEY)
        if not isinstance(generation, bytes):
            # Flushed between the two calls: this read goes to Postgres like any other Redis trouble.
            raise redis.RedisError("the loads generation vanished while it was read")
        return generation

    # --- the local copy ---------------------------------------------------------------------------

    def _local_page(self, part: str) -> CachedPage | None:
        with self._lock:
            if not self._tracking_ok():
                return None
            entry = self._local.get(part)
            if entry is None or entry.generation != self._generation:
                return None
            if entry.expires_at <= time.monotonic():
                del self._local[part]
                return None
            return entry.page

    def _remember(self, epoch: int, generation: bytes, part: str, etag: str, body: bytes, pttl: int) -> None:
        if self.mode != "local" or pttl is None or pttl <= 0:
            return
        with self._lock:
            if epoch != self._epoch or self._tracker is None:
                return
            if self._generation != generation:
                self._local.clear()
                self._generation = generation
            page = CachedPage(body, etag, True, "local")
            self._local[part] = _LocalEntry(generation, time.monotonic() + pttl / 1000, page)

    def _tracking_ok(self) -> bool:
        """Drain invalidations; (re)connect the tracker when due. Call with the lock held."""
        if self._open:
            return False
        if self._tracker is None:
            if time.monotonic() < self._tracker_retry_at:
                return False
            try:
                self._tracker = InvalidationTracker(self._redis, GENERATION_KEY)
            except (redis.RedisError, OSError) as exc:
                self._tracker_retry_at = time.monotonic() + self.retry_after
                _errors.labels("track").inc()
                log.warning("loads cache: invalidation tracking unavailable: %s", exc)
                return False
            self._drop_local("reconnect")
            return True
        try:
            if self._tracker.drain():
                self._drop_local("push")
        except (redis.RedisError, OSError) as exc:
            log.warning("loads cache: invalidation tracking lost: %s", exc)
            _errors.labels("track").inc()
            self._close_tracker()
            self._drop_local("disconnect")
            return False
        return True

    def _drop_local(self, reason: str) -> None:
        self._epoch += 1
        self._generation = None
        if self._local:
            _invalidations.labels(reason).inc()
        self._local.clear()

    def _close_tracker(self) -> None:
        if self._tracker is not None:
            try:
                self._tracker.close()
            except (redis.RedisError, OSError):
                pass
        self._tracker = None
        self._tracker_retry_at = time.monotonic() + self.retry_after

    # --- writing ----------------------------------------------------------------------------------

    def invalidate(self) -> bool:
        """Called after a write to loads has committed. False when Redis could not be told (yet): the
        invalidation is then owed and applied as soon as Redis answers again."""
        if self.mode == "off":
            return True
        with self._lock:
            if self._open:
                self._owed = True
                self._drop_local("write")
                _owed.inc()
                return False
        try:
            self._bump_generation()
        except redis.RedisError as exc:
            with self._lock:
                self._owed = True
            _owed.inc()
            self._redis_failed("invalidate", exc)
            return False
        with self._lock:
            # This process need not wait for its own push.
            self._drop_local("write")
        return True

    def _bump_generation(self) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(GENERATION_KEY, str(time.time_ns()), nx=True)
        pipe.incr(GENERATION_KEY)
        pipe.execute()

    def _redis_failed(self, operation: str, exc: Exception) -> None:
        _errors.labels(operation).inc()
        with self._lock:
            self._close_tracker()
            self._drop_local("redis-error")
            if self._open:
                return
            self._open = True
            _breaker_open.set(1)
            _breaker_transitions.labels("open").inc()
            log.warning(
                "loads cache: redis %s failed (%s); answering from postgres, probing redis every %.1fs",
                operation,
                exc,
                self.retry_after,
            )
            if self._prober is None or not self._prober.is_alive():
                self._prober = threading.Thread(target=self._probe_until_back, name="loads-cache-probe", daemon=True)
                self._prober.start()

    def _probe_until_back(self) -> None:
        """Ping Redis every cool-down; when it answers, pay the owed invalidation, then close the breaker."""
        while True:
            time.sleep(self.retry_after)
            with self._lock:
                owed, self._owed = self._owed, False
            try:
                self._redis.ping()
                if owed:
                    self._bump_generation()
            except redis.RedisError:
                with self._lock:
                    self._owed = self._owed or owed
                continue
            with self._lock:
                if self._owed:
                    continue  # a write arrived meanwhile: bump once more before closing
                self._open = False
                self._drop_local("reconnect")
                _breaker_open.set(0)
                _breaker_transitions.labels("closed").inc()
                log.warning("loads cache: redis answers again%s; cache on", " (owed invalidation applied)" * owed)
                self._prober = None
                return

    @property
    def breaker_open(self) -> bool:
        return self._open

    def close(self) -> None:
        with self._lock:
            self._close_tracker()
        self._redis.close()
