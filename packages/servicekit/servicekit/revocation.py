"""Token revocation: every service refuses a person's token as soon as fleet-api has revoked it.

The store. One Redis hash, ``servicekit:token-versions`` on ``AUTH_REDIS_URL``: field = user id (a token's
``sub``), value = the user's token version. Only fleet-api writes it (fleet_api/usecases/keep_token_versions.py):
the user's version when it logs in, a higher one when it is demoted or gets a new password, no field once it is deleted,
and the whole table again from Postgres when Redis lost the hash (the field ``~synced`` marks a complete hash).
A person's token (``scope: user``) is accepted when its user has a field and its ``ver`` claim (0 when absent)
is not below it. Service tokens name a service, not a person, and are not looked up.

The copy. A Redis round trip on every request would cost more than the rest of the request's plumbing, so
each process keeps a copy of the whole hash (a few dozen bytes per user) and one RESP3 connection with
``CLIENT TRACKING ON BCAST PREFIX servicekit:token-versions`` (servicekit.tracking): Redis pushes an
invalidation to every process whenever the hash changes. Before a token is looked up, the pushes that have
arrived are drained (one non-blocking ``poll(2)``) and after one the hash is read again (``HGETALL``).
fleet-api makes its write before it commits, and answers only once Redis has written the push to every
tracking connection (it waits for a PING sent after the write), so any request that reaches a worker after the
admin's answer is decided on the new version.

Redis unreachable. The copy stays in use for ``AUTH_REDIS_GRACE_SECONDS`` (30 s) counted from the moment Redis
last answered on the tracking connection (or from finding the hash incomplete): fleet-api refuses to revoke while
it cannot write the hash, so a copy that was current when Redis went away stays current while Redis is away for
everyone. A copy that a push has outdated is never used so: one that arrived as the connection broke, or a
flush (Redis pushes one), means person tokens wait for fleet-api's rewrite of the hash (about a second). Past the
grace, or with no copy at all (a process that started while Redis was down), person tokens get 503 with
``Retry-After``: fail closed, because a process cut off from a Redis that fleet-api still reaches could miss
revocations. While requests come in, the tracking connection is pinged every 5 s and must answer within 2 s, so
a connection that died silently (a partition) is noticed; the worst staleness is the grace plus about 7 s, and
only for a process that cannot reach Redis while fleet-api can.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import redis

from .errors import ApiProblem
from .metrics import counter
from .tracking import InvalidationTracker

log = logging.getLogger("servicekit.revocation")

HASH_KEY = "servicekit:token-versions"
SYNCED_FIELD = "~synced"
USER_SCOPE = "user"
RETRY_AFTER_SECONDS = 5

# Children are looked up when a refusal happens, never at import: gunicorn's master imports servicekit (its
# config does) before it prepares the multiprocess metrics folder, and a child made then would write there.
_refusals = counter(
    "servicekit_token_refusals_total",
    "Person tokens refused by the revocation check, by reason (revoked, unavailable)",
    ["reason"],
)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _revoked() -> ApiProblem:
    _refusals.labels("revoked").inc()
    return ApiProblem(
        401,
        "Unauthorized",
        "The token has been revoked; log in again.",
        headers={"WWW-Authenticate": 'Bearer realm="trucking-suite", error="invalid_token"'},
    )


def _unavailable() -> ApiProblem:
    _refusals.labels("unavailable").inc()
    return ApiProblem(
        503,
        "Service Unavailable",
        "Whether the token was revoked cannot be checked right now; retry later.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class TokenVersions:
    """This process's copy of every user's token version, and the check every person's token passes."""

    def __init__(
        self,
        redis_url: str,
        *,
        grace_seconds: float = 30.0,
        retry_seconds: float = 1.0,
        ping_seconds: float = 5.0,
        pong_timeout: float = 2.0,
    ):
        self.grace_seconds = grace_seconds
        self.retry_seconds = retry_seconds
        self._ping_seconds = ping_seconds
        self._pong_timeout = pong_timeout
        # Short timeouts: the copy is read with the lock held, and a frozen Redis must not hold requests long.
        self._redis = redis.Redis.from_url(
            redis_url, socket_connect_timeout=0.3, socket_timeout=0.5, health_check_interval=0
        )
        self._lock = threading.Lock()
        self._tracker: InvalidationTracker | None = None
        self._versions: dict[str, int] | None = None  # the last complete copy
        self._stale = True  # the copy must be read again before it is used (start, push, reconnect)
        # A push arrived since the copy was read: the hash changed, maybe by a revocation. Such a copy is never
        # used in the grace, only replaced by a complete read.
        self._outdated = False
        self._behind_since: float | None = None  # since when the copy may be behind Redis; None: it is not
        self._retry_at = 0.0

    def check(self, claims: Mapping[str, Any]) -> None:
        """Raise 401 for a revoked person's token, 503 when that cannot be known; service tokens pass."""
        if claims.get("scope") != USER_SCOPE:
            return
        versions = self._current()
        subject = claims.get("sub")
        current = versions.get(subject) if type(subject) is str else None
        version = claims.get("ver", 0)
        if current is None or type(version) is not int or version < current:
            raise _revoked()

    def _current(self) -> dict[str, int]:
        with self._lock:
            now = time.monotonic()
            tracker = self._tracker
            if tracker is not None:
                try:
                    if tracker.drain(now):
                        self._stale = self._outdated = True
                except (redis.RedisError, OSError) as exc:
                    # A push read just before the connection broke still counts.
                    self._outdated = self._outdated or tracker.changed
                    # Reconnected at once below: Redis may be back already (a restart), and it is asked only once.
                    self._disconnect(now, f"tracking connection lost ({exc})", since=tracker.last_heard, backoff=False)
            if self._stale and now >= self._retry_at:
                self._read(now)
            if self._behind_since is None and not self._stale:
                assert self._versions is not None  # a read that succeeded left a copy
                return self._versions
            if (
                self._versions is not None
                and not self._outdated
                and self._behind_since is not None
                and now - self._behind_since <= self.grace_seconds
            ):
                return self._versions
            raise _unavailable()

    def _read(self, now: float) -> None:
        """Track first, then read: a change made between the two still arrives as a push. Lock held."""
        try:
            if self._tracker is None:
                self._tracker = InvalidationTracker(
                    self._redis, HASH_KEY, ping_seconds=self._ping_seconds, pong_timeout=self._pong_timeout
                )
            raw = self._redis.hgetall(HASH_KEY)
        except (redis.RedisError, OSError) as exc:
            self._disconnect(now, f"redis unreachable ({exc})", since=now, backoff=True)
            return
        fields = {_text(field): value for field, value in raw.items()}
        if SYNCED_FIELD not in fields:
            # Redis lost the hash (a restart without persistence, a flush) and fleet-api has not written it
            # again yet; its rewrite arrives as a push. Until then the last copy is all there is, unless a push
            # said the hash changed before it was lost (a flush does too): then nothing is.
            self._stale = False
            self._fall_behind(now, "the token-version hash is incomplete (fleet-api rewrites it)")
            return
        self._versions = {field: int(value) for field, value in fields.items() if field != SYNCED_FIELD}
        self._stale = self._outdated = False
        if self._behind_since is not None:
            log.warning("token versions: current again")
        self._behind_since = None

    def _disconnect(self, now: float, reason: str, *, since: float, backoff: bool) -> None:
        if self._tracker is not None:
            try:
                self._tracker.close()
            except (redis.RedisError, OSError):
                pass
            self._tracker = None
        self._stale = True
        self._retry_at = now + self.retry_seconds if backoff else now
        self._fall_behind(since, reason)

    def _fall_behind(self, since: float, reason: str) -> None:
        if self._behind_since is None:
            self._behind_since = since
            log.warning(
                "token versions: %s; deciding from the last copy for up to %.0f s, then refusing person tokens",
                reason,
                self.grace_seconds,
            )

    def close(self) -> None:
        with self._lock:
            if self._tracker is not None:
                try:
                    self._tracker.close()
                except (redis.RedisError, OSError):
                    pass
                self._tracker = None
        self._redis.close()
