"""gpt-service's dependencies, built once per process by ``create_app`` and read by views through ``deps()``.

``build_dependencies`` only builds: no thread, no connection, no write (the OpenAI client and the Redis clients
connect at their first use). ``background(deps)`` lists what runs when the process starts, which ``create_app``
starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import servicekit
from servicekit import Lifecycle

from .adapters.cache import AnswerCache, make_cache
from .adapters.language_model import LanguageModel
from .adapters.openai_model import OpenAIModel
from .adapters.quota import QuotaPause, make_quota_pause
from .background.model_announcement import ModelAnnouncement
from .settings import Settings


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    # None without an API key: every answer is then the deterministic one.
    model: LanguageModel | None
    cache: AnswerCache
    # Shared through Redis when it is configured, so every worker pauses together after insufficient_quota.
    quota_pause: QuotaPause


def build_dependencies(settings: Settings, model: LanguageModel | None = None) -> Dependencies:
    if model is None and settings.openai_api_key:
        model = OpenAIModel(settings)
    return Dependencies(
        settings=settings,
        model=model,
        cache=make_cache(settings.redis_url, settings.summary_cache_ttl_seconds, settings.summary_cache_max_entries),
        quota_pause=make_quota_pause(settings.redis_url, settings.openai_quota_cooldown_seconds),
    )


def background(deps: Dependencies) -> Lifecycle:
    """The start-up report of the model's state (gpt_model_configured; a line when there is no key), not started."""
    return Lifecycle(ModelAnnouncement(deps.model.model if deps.model else None))


def deps() -> Dependencies:
    dependencies: Dependencies = servicekit.current_dependencies(Dependencies)
    return dependencies
