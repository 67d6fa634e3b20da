"""Cache hit, miss and invalidation of GET /loads, on fakeredis (one GET per request) and with
Redis unreachable. The per-process copy with server-assisted invalidation needs a real Redis
(tests/integration/test_cache_tracking.py)."""

import socket

import fakeredis
import pytest
from fleet_api.adapters.cache import GENERATION_KEY, LoadsCache


class Source:
    """Stands in for the Postgres query: counts calls, returns a new body after each write."""

    def __init__(self):
        self.version = 1
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return b'{"version": %d}' % self.version


@pytest.fixture()
def cache(monkeypatch):
    server = fakeredis.FakeServer()
    cache = LoadsCache("redis://fake:6379/0", ttl_seconds=60, mode="redis")
    cache._redis = fakeredis.FakeRedis(server=server)
    return cache


def test_first_read_misses_then_hits(cache):
    source = Source()
    first = cache.get("status=*&limit=20&offset=0", source)
    second = cache.get("status=*&limit=20&offset=0", source)
    assert (first.hit, first.source) == (False, "postgres")
    assert (second.hit, second.source) == (True, "redis")
    assert second.body == first.body and second.etag == first.etag
    assert source.calls == 1


def test_pages_are_stored_with_the_ttl(cache):
    cache.get("q", Source())
    keys = [k for k in cache._redis.keys("fleet:loads:page:*")]
    assert len(keys) == 1
    assert 55 <= cache._redis.ttl(keys[0]) <= 60


def test_each_query_has_its_own_entry(cache):
    source = Source()
    cache.get("status=OPEN&limit=20&offset=0", source)
    assert not cache.get("status=ASSIGNED&limit=20&offset=0", source).hit
    assert source.calls == 2


def test_invalidation_makes_every_query_miss_and_see_the_write(cache):
    source = Source()
    cache.get("a", source)
    cache.get("b", source)
    source.version = 2
    assert cache.invalidate() is True
    page = cache.get("a", source)
    assert not page.hit and page.body == b'{"version": 2}'
    assert not cache.get("b", source).hit
    assert cache.get("a", source).hit


def test_a_lost_generation_key_never_brings_old_pages_back(cache):
    source = Source()
    cache.get("a", source)
    cache._redis.delete(GENERATION_KEY)
    source.version = 2
    assert cache.get("a", source).body == b'{"version": 2}'


def test_mode_off_always_asks_postgres(cache):
    cache.mode = "off"
    source = Source()
    assert not cache.get("a", source).hit
    assert not cache.get("a", source).hit
    assert source.calls == 2


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("mode", ["local", "redis"])
def test_redis_down_answers_from_postgres_and_counts_the_miss(mode):
    from prometheus_client import REGISTRY

    cache = LoadsCache(f"redis://127.0.0.1:{_closed_port()}/0", mode=mode)
    before = (
        REGISTRY.get_sample_value("fleet_loads_cache_requests_total", {"result": "miss", "source": "postgres"}) or 0
    )
    source = Source()
    pages = [cache.get("a", source) for _ in range(3)]
    assert all(not p.hit and p.body == b'{"version": 1}' for p in pages)
    assert source.calls == 3
    after = REGISTRY.get_sample_value("fleet_loads_cache_requests_total", {"result": "miss", "source": "postgres"})
    assert after - before == 3
    assert cache.invalidate() is False
