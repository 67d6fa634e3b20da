"""With REDIS_URL the cache is shared: another worker (another app) answers from it."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration


def test_a_second_app_answers_from_the_shared_cache(fake_openai, settings_for, client_for, auth, loads, redis_url):
    run = uuid.uuid4().hex[:8]  # a shared TEST_REDIS_URL may still hold an earlier run's answer
    loads = [{**load, "load_id": f"{load['load_id']}-{run}"} for load in loads]
    settings = settings_for(redis_url=redis_url)
    first = client_for(settings).post("/summarize-loads", json=loads, headers=auth).get_json()
    second = client_for(settings).post("/summarize-loads", json=loads, headers=auth).get_json()

    assert first["cached"] is False and second["cached"] is True
    assert second["summary"] == first["summary"] and second["notes"] == first["notes"]
    assert len(fake_openai.seen) == 1
    assert client_for(settings).get("/readyz").get_json()["checks"]["redis"]["status"] == "up"


def test_an_insufficient_quota_pauses_every_worker_sharing_redis(
    fake_openai, settings_for, client_for, auth, loads, redis_url
):
    """Two apps (two gunicorn workers) on one Redis: the quota error seen by one pauses the other."""
    import redis
    from gpt_service.adapters.quota import RedisQuotaPause

    shared = redis.Redis.from_url(redis_url)
    shared.delete(RedisQuotaPause.KEY)
    fake_openai.then(
        fake_openai.Reply(
            429, fake_openai.error("insufficient_quota", "insufficient_quota", "You exceeded your current quota")
        )
    )
    settings = settings_for(redis_url=redis_url, summary_cache_ttl_seconds=0, openai_quota_cooldown_seconds=30)
    first_worker, second_worker = client_for(settings), client_for(settings)
    try:
        first = first_worker.post("/summarize-loads", json=loads, headers=auth).get_json()
        second = second_worker.post("/summarize-loads", json=loads[:10], headers=auth).get_json()

        assert first["reason"] == "insufficient_quota" and second["reason"] == "insufficient_quota"
        assert len(fake_openai.seen) == 1  # the second worker did not ask the model
        assert 0 < shared.pttl(RedisQuotaPause.KEY) <= 30_000

        shared.delete(RedisQuotaPause.KEY)  # the cool-down is over
        third = second_worker.post("/summarize-loads", json=loads[:5], headers=auth).get_json()
        assert third["degraded"] is False and len(fake_openai.seen) == 2
    finally:
        shared.delete(RedisQuotaPause.KEY)
        shared.close()
