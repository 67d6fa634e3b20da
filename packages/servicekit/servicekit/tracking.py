"""Redis invalidation pushes: a per-process copy of some keys kept honest by Redis itself.

A process that keeps a copy of keys under a prefix (the token-version hash, fleet-api's ``GET /loads`` pages)
opens one RESP3 connection with ``CLIENT TRACKING ON BCAST PREFIX <prefix>``: Redis pushes an invalidation to
it whenever any client changes a key under the prefix. Before the copy is used, the pushes that have arrived are
drained with one non-blocking ``poll(2)`` on the socket (redis-py's ``can_read`` alone costs two
``settimeout`` calls besides); a push means the copy must be read again. The connection is pinged every
``ping_seconds`` while it is drained and must answer within ``pong_timeout``: a connection that died without a
FIN (a partition) shows nothing to poll, only its silence does.

Redis 7.0 (Debian 12) has tracking, but redis-py's own client-side cache wants 7.4, hence this.
"""

from __future__ import annotations

import select
import time
from typing import Any

import redis


class InvalidationTracker:
    """One RESP3 connection whose only traffic, after setup, is invalidation pushes and its own PINGs."""

    def __init__(self, client: redis.Redis, prefix: str, *, ping_seconds: float = 5.0, pong_timeout: float = 2.0):
        # The pool's own connection class and settings: TLS for a rediss:// URL (ElastiCache), a password...
        pool = client.connection_pool
        options: dict[str, Any] = {**pool.connection_kwargs, "protocol": 3}
        self._conn = pool.connection_class(**options)
        self._conn.connect()
        self._conn.send_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", prefix)
        reply = self._conn.read_response()
        if reply not in (b"OK", "OK"):
            self._conn.disconnect()
            raise redis.ConnectionError(f"CLIENT TRACKING refused: {reply!r}")
        # After setup nothing waits in redis-py's own buffer, so the socket's readiness is the whole story.
        sock = getattr(self._conn, "_sock", None)
        if sock is None:
            raise redis.ConnectionError("the tracking connection closed during its setup")
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
        self._ping_seconds = ping_seconds
        self._pong_timeout = pong_timeout
        self._next_ping = time.monotonic() + ping_seconds
        self._pong_due: float | None = None
        # Set as soon as a push is read, so that a connection breaking right after one still reports it.
        self.changed = False
        # When Redis last proved this connection alive (set up, a push, a PONG): a copy is known current up to
        # then, not up to the moment a request notices the connection is gone.
        self.last_heard = time.monotonic()

    def drain(self, now: float | None = None) -> bool:
        """Whether a push arrived since the last call; raises (a RedisError or an OSError) when the connection
        is gone or mute. ``changed`` then still tells whether a push arrived before it broke."""
        now = time.monotonic() if now is None else now
        if self._poll.poll(0):
            while self._conn.can_read(timeout=0):
                reply = self._conn.read_response(push_request=True)
                self.last_heard = now
                if reply in (b"PONG", "PONG"):
                    self._pong_due = None
                else:
                    self.changed = True
        if self._pong_due is not None and now > self._pong_due:
            raise redis.TimeoutError("the invalidation tracking connection did not answer PING")
        if self._pong_due is None and now >= self._next_ping:
            self._conn.send_command("PING")
            self._pong_due = now + self._pong_timeout
            self._next_ping = now + self._ping_seconds
        changed, self.changed = self.changed, False
        return changed

    def close(self) -> None:
        self._conn.disconnect()
