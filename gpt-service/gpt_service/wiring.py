"""gpt-service's dependencies, built once per process by ``create_app`` and read by views through ``deps()``."""

from __future__ import annotations

from dataclasses import dataclass

import servicekit

from .adapters.cache import make_cache
from .adapters.openai_model import OpenAIModel
from .adapters.quota import make_quota_pause
from .metrics import MODEL_CONFIGURED, MODEL_LATENCY, TOKENS
from .settings import Settings
from .summarizer import Model, Summarizer


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    summarizer: Summarizer


def build_dependencies(settings: Settings, model: Model | None = None) -> Dependencies:
    """Without an API key there is no model: every answer is the deterministic fallback."""
    if model is None and settings.openai_api_key:
        model = OpenAIModel(settings)
    _report_model(model)
    summarizer = Summarizer(
        model,
        make_cache(settings.redis_url, settings.summary_cache_ttl_seconds, settings.summary_cache_max_entries),
        prompt_token_budget=settings.prompt_token_budget,
        # Shared through Redis when it is configured, so every worker pauses together after insufficient_quota.
        quota_pause=make_quota_pause(settings.redis_url, settings.openai_quota_cooldown_seconds),
    )
    return Dependencies(settings=settings, summarizer=summarizer)


def _report_model(model: Model | None) -> None:
    """The model state on /metrics (gpt_model_configured), and its series at zero for the first call."""
    MODEL_CONFIGURED.set(1 if model else 0)
    if model is None:
        return
    for kind in ("prompt", "completion"):
        TOKENS.labels(kind=kind, model=model.model)
    MODEL_LATENCY.labels(result="ok")


def deps() -> Dependencies:
    return servicekit.current_dependencies(Dependencies)
