"""HTTP layer of gpt-service: one blueprint per resource."""

from flask import Flask

from ..adapters.cache import make_cache
from ..adapters.openai_model import OpenAIModel
from ..adapters.quota import make_quota_pause
from ..settings import Settings
from ..summarizer import Summarizer
from . import summarize


def register_blueprints(app: Flask, settings: Settings) -> None:
    """Each resource's blueprint is registered here, with the summarizer its views use."""
    model = OpenAIModel(settings) if settings.openai_api_key else None
    app.extensions["gpt_service.summarizer"] = Summarizer(
        model,
        make_cache(settings.redis_url, settings.summary_cache_ttl_seconds, settings.summary_cache_max_entries),
        prompt_token_budget=settings.prompt_token_budget,
        quota_pause=make_quota_pause(settings.redis_url, settings.openai_quota_cooldown_seconds),
    )
    app.register_blueprint(summarize.bp)
