"""Failed logins counted in Redis, per client address, per account, and per account from one address.

Each rule is a moving window: a sorted set of the failures' times (Redis's clock, so that every worker of every
instance counts alike), trimmed to the window on every use. A login *reserves* its slot in every rule before the
password is looked at, in one Lua script (all rules or none), so a storm of parallel attempts gets no more password
checks than the limits allow; a success gives its slot back. When a rule is full the script answers how long until
enough of its failures age out, which becomes ``Retry-After``.

Keys carry a hash of the account (the e-mail as typed, trimmed and lower-cased, whether or not such a user exists)
and of the address, never the values themselves.

Not Flask-Limiter nor its ``limits`` library: both count hits and have no way to give a hit back, so either every
attempt counts (a successful login too) or the check happens after the password was verified (and a burst of
parallel attempts all get checked). The script is small and does exactly the reservation.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import redis
from servicekit.domain_errors import TooManyAttempts, Unavailable

PREFIX = "fleet:login:failures:"

# KEYS: one sorted set per rule. ARGV[1] the window (ms), ARGV[2] this attempt's member, ARGV[3..] each rule's
# limit. Answers 0 (slot taken in every rule) or the milliseconds until every full rule has a free slot.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local limit = tonumber(ARGV[2 + i])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local free_at = tonumber(entry[2]) + window - now
    if free_at > wait then wait = free_at end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, window)
end
return 0
"""


@dataclass(frozen=True)
class Limits:
    per_address: int
    per_account: int
    per_account_and_address: int
    window_seconds: int


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def account_key(email: str) -> str:
    return email.strip().lower()


class LoginThrottle:
    def __init__(self, redis_url: str, limits: Limits):
        self.limits = limits
        self._redis = redis.Redis.from_url(
            redis_url, socket_connect_timeout=0.5, socket_timeout=1.0, health_check_interval=0
        )
        self._reserve = self._redis.register_script(_RESERVE)

    def keys(self, email: str, address: str) -> list[str]:
        account, where = _digest(account_key(email)), _digest(address)
        return [f"{PREFIX}address:{where}", f"{PREFIX}account:{account}", f"{PREFIX}pair:{account}:{where}"]

    def reserve(self, email: str, address: str) -> Attempt:
        """Take a slot in every rule, or raise TooManyAttempts saying when to come back."""
        limits = self.limits
        keys = self.keys(email, address)
        member = uuid.uuid4().hex
        try:
            wait_ms = self._reserve(
                keys=keys,
                args=[
                    limits.window_seconds * 1000,
                    member,
                    limits.per_address,
                    limits.per_account,
                    limits.per_account_and_address,
                ],
            )
        except redis.RedisError as exc:
            raise Unavailable(f"Logins cannot be counted right now ({type(exc).__name__}); retry shortly.") from None
        if wait_ms:
            seconds = max(1, -(-int(wait_ms) // 1000))
            # The same words whatever the account: a refusal never tells whether it exists.
            raise TooManyAttempts(f"Too many failed logins; try again in {seconds} s.", retry_after=seconds)
        return Attempt(self._redis, keys, member)

    def close(self) -> None:
        self._redis.close()


class Attempt:
    """A reserved slot: kept on failure (it counts), given back on success."""

    def __init__(self, client: redis.Redis, keys: list[str], member: str):
        self._redis = client
        self._keys = keys
        self._member = member

    def succeeded(self) -> None:
        address_key, account_key_, pair_key = self._keys
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.zrem(address_key, self._member)
            pipe.zrem(account_key_, self._member)
            # The owner got in from here: their own earlier typos from this address are forgiven.
            pipe.delete(pair_key)
            pipe.execute()
        except redis.RedisError:
            pass  # the slot then counts as a failure until it ages out: on the safe side
