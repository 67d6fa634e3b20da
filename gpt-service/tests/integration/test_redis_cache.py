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
