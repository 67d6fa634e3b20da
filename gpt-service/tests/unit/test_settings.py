from __future__ import annotations

from gpt_service.settings import Settings


def test_empty_settings_mean_unset(monkeypatch):
    for name in ("OPENAI_TEMPERATURE", "OPENAI_API_KEY", "REDIS_URL", "OPENAI_BASE_URL"):
        monkeypatch.setenv(name, "")
    settings = Settings(jwt_secret="x" * 32)
    assert (settings.openai_temperature, settings.openai_api_key, settings.redis_url) == (None, None, None)
