"""gpt-service settings: servicekit's base plus the service's own (environment or *_FILE)."""

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict
from servicekit import ServiceSettings


class Settings(ServiceSettings):
    # Here an empty variable is a value of its own: OPENAI_TEMPERATURE= means "send no temperature"
    # (some models refuse one), unlike servicekit's default where empty means "use the default".
    model_config = SettingsConfigDict(**{**ServiceSettings.model_config, "env_ignore_empty": False})

    service_name: str = "gpt-service"

    openai_api_key: SecretStr | None = None
    # Any OpenAI-compatible server (vLLM, Ollama, a proxy); None means api.openai.com.
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    # Per attempt: the read timeout bounds a model that hangs mid-answer.
    openai_timeout_seconds: float = Field(default=20.0, gt=0)
    openai_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    # Retries after the first attempt, on 429 (not insufficient_quota), 5xx and connection errors.
    openai_max_retries: int = Field(default=2, ge=0, le=5)
    # First wait of the exponential backoff (with jitter) when the server gives no Retry-After.
    openai_retry_backoff_seconds: float = Field(default=0.5, ge=0)
    # A Retry-After longer than this is not waited for: the caller gets the fallback at once.
    openai_retry_after_max_seconds: float = Field(default=10.0, ge=0)
    # Whole budget of the model's attempts and waits for one summary. worst_case_seconds (this plus
    # what may overrun it) must stay under gunicorn's timeout and every caller's HTTP timeout, so that
    # callers always receive an answer rather than retrying work still under way
    # (tests/test_time_budgets.py checks every pair).
    openai_deadline_seconds: float = Field(default=20.0, gt=0)
    openai_max_output_tokens: int = Field(default=1800, ge=256)
    openai_temperature: float | None = Field(default=0.2, ge=0, le=2)
    # After insufficient_quota the model is not asked again for this long (each call would fail the same).
    openai_quota_cooldown_seconds: float = Field(default=60.0, ge=0)

    # Estimated tokens (about 4 characters each) of the user prompt: facts plus load table.
    prompt_token_budget: int = Field(default=3000, ge=500)

    # Identical payloads within this window are answered from the cache (0 turns it off).
    summary_cache_ttl_seconds: int = Field(default=300, ge=0)
    summary_cache_max_entries: int = Field(default=512, ge=1)
    # When set, the cache lives in Redis and is shared by every worker and replica.
    redis_url: str | None = None

    @field_validator("openai_temperature", "openai_base_url", "redis_url", "openai_api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # .env files and compose write "VAR=" for "not set"; some models refuse any temperature.
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def overhead_seconds(self) -> float:
        """What a summary may spend besides the model: Redis calls at their timeouts when Redis is
        configured (cache read 1 s, quota pause 0.5 s, cache write 1 s), and the work itself (0.5 s)."""
        return 0.5 + (2.5 if self.redis_url else 0.0)

    @property
    def worst_case_seconds(self) -> float:
        """Longest POST /summarize-loads: the model's deadline, one connect timeout that can overrun it
        (an attempt's connect and read timeouts are both cut to what is left), and the overhead."""
        return self.openai_deadline_seconds + self.openai_connect_timeout_seconds + self.overhead_seconds

    def model_budget_seconds(self, caller_remaining: float | None) -> float:
        """The model's budget for this request: OPENAI_DEADLINE_SECONDS, cut so that the whole answer still
        reaches a caller who waits only `caller_remaining` seconds (servicekit's X-Request-Timeout-Ms)."""
        if caller_remaining is None:
            return self.openai_deadline_seconds
        room = caller_remaining - self.openai_connect_timeout_seconds - self.overhead_seconds
        return min(self.openai_deadline_seconds, room)
