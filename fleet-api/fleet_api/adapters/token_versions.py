"""fleet-api's writes to the token-version hash every service reads (packages/servicekit/servicekit/revocation.py).

Only the use cases call these (usecases/keep_token_versions.py says how), inside the Postgres transaction of the change
they publish. Every single write first checks that the hash is complete (its ``~synced`` field): a write into a hash
that Redis lost would make a half hash the services could not tell from a whole one, so it is refused and the
whole table is written again first (``replace_all``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import redis
from redis.commands.core import Script
from redis.typing import EncodableT
from servicekit.domain_errors import Unavailable
from servicekit.revocation import HASH_KEY, SYNCED_FIELD

# KEYS[1] the hash; ARGV[1] the completeness field, ARGV[2] the user id, ARGV[3] the version.
# Written only when it changes: every write pushes an invalidation to every process of every service.
_SET = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then redis.call('HSET', KEYS[1], ARGV[2], ARGV[3]) end
return 1
"""
_FORGET = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
redis.call('HDEL', KEYS[1], ARGV[2])
return 1
"""


class TokenVersionWriter:
    """The hash's only writer. Disabled (every call a no-op) when AUTH_REDIS_URL is unset."""

    def __init__(self, redis_url: str | None):
        self.enabled = redis_url is not None
        self._redis: redis.Redis | None = None
        if redis_url:
            self._redis = redis.Redis.from_url(
                redis_url, socket_connect_timeout=0.5, socket_timeout=1.0, health_check_interval=0
            )
            self._set = self._redis.register_script(_SET)
            self._forget = self._redis.register_script(_FORGET)

    def is_complete(self) -> bool:
        if self._redis is None:
            return True
        try:
            return bool(self._redis.hexists(HASH_KEY, SYNCED_FIELD))
        except redis.RedisError as exc:
            raise _unavailable(exc) from None

    def set(self, user_id: str, version: int) -> None:
        if self._redis is not None:
            self._run(self._redis, self._set, user_id, str(version))

    def forget(self, user_id: str) -> None:
        if self._redis is not None:
            self._run(self._redis, self._forget, user_id)

    def replace_all(self, versions: Mapping[str, int]) -> None:
        """The whole table at once (MULTI/EXEC): no reader ever sees it half written."""
        if self._redis is None:
            return
        mapping: dict[EncodableT, EncodableT] = {SYNCED_FIELD: str(time.time_ns())}
        mapping.update({user: str(v) for user, v in versions.items()})
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(HASH_KEY)
            pipe.hset(HASH_KEY, mapping=mapping)
            pipe.execute()
            self._pushed(self._redis)
        except redis.RedisError as exc:
            raise _unavailable(exc) from None

    def _run(self, client: redis.Redis, script: Script, *args: str) -> None:
        try:
            done: Any = script(keys=[HASH_KEY], args=[SYNCED_FIELD, *args])
            self._pushed(client)
        except redis.RedisError as exc:
            raise _unavailable(exc) from None
        if done == -1:
            raise Unavailable("Redis lost the token versions a moment ago; they are being written again. Retry.")

    @staticmethod
    def _pushed(client: redis.Redis) -> None:
        """Return once Redis has handed the write's invalidation to every tracking connection.

        Redis writes the pushes of a command in the same pass as its reply, but the two are separate writes; it
        reads the next command only after that pass. So once a PING sent after the write is answered, every
        service's process has the push on its connection, before fleet-api commits and answers its caller."""
        client.ping()

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()


def _unavailable(exc: Exception) -> Unavailable:
    return Unavailable(f"The token-version store is unreachable ({type(exc).__name__}); nothing was changed. Retry.")
