"""The summary's use case with stand-ins for its collaborators (a model, a cache, the quota pause), no I/O."""

from __future__ import annotations

import pytest
from gpt_service.adapters.cache import MemoryCache
from gpt_service.adapters.quota import LocalQuotaPause
from gpt_service.domain.cache_key import payload_key
from gpt_service.domain.loads import SummarizeRequest
from gpt_service.usecases.summarize_loads import summarize_loads


class BrokenModel:
    model = "broken"

    def __init__(self, exc: Exception):
        self.exc = exc
        self.calls = 0

    def complete(self, system: str, user: str):
        self.calls += 1
        raise self.exc


@pytest.fixture()
def items(loads):
    return SummarizeRequest.model_validate(loads).loads


def summarize(items, model, cache):
    return summarize_loads(items, model=model, cache=cache, quota_pause=LocalQuotaPause(60.0), prompt_token_budget=3000)


def test_an_unexpected_failure_of_the_model_still_gives_an_answer(items):
    model = BrokenModel(RuntimeError("bug in a dependency"))
    response = summarize(items, model, MemoryCache(60, 8))
    assert response.degraded and response.reason == "upstream_error" and model.calls == 1


def test_an_unreadable_cache_entry_is_a_miss(items):
    cache = MemoryCache(60, 8)
    cache.set(payload_key(items, "-", 3000), "{not json")
    response = summarize(items, None, cache)
    assert response.reason == "no_api_key" and response.cached is False
