from __future__ import annotations

import time

from gpt_service.adapters.cache import MemoryCache, NoCache, RedisCache, make_cache
from gpt_service.domain.cache_key import payload_key
from gpt_service.domain.loads import Load
from testkit.servers import free_port


def test_memory_cache_forgets_after_its_window():
    cache = MemoryCache(ttl_seconds=1, max_entries=4)
    cache.set("k", "v")
    assert cache.get("k") == "v"
    time.sleep(1.05)
    assert cache.get("k") is None


def test_a_zero_window_turns_caching_off():
    cache = make_cache(None, 0, 10)
    assert isinstance(cache, NoCache)
    cache.set("k", "v")
    assert cache.get("k") is None


def test_an_unreachable_redis_is_a_miss_not_an_error():
    cache = make_cache(f"redis://127.0.0.1:{free_port()}/0", 60, 10)
    assert isinstance(cache, RedisCache)
    cache.set("k", "v")
    assert cache.get("k") is None


def test_the_key_ignores_order_but_not_content_nor_model():
    a = Load(portal="p", load_id="1", origin="A, TX", destination="B, OK", price=10)
    b = Load(portal="q", load_id="1", origin="A, TX", destination="B, OK")
    assert payload_key([a, b], "m", 3000) == payload_key([b, a], "m", 3000)
    assert payload_key([a, b], "m", 3000) != payload_key([a, b], "other", 3000)
    assert payload_key([a, b], "m", 3000) != payload_key([a.model_copy(update={"price": 11}), b], "m", 3000)
