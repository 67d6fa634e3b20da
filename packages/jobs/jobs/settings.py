"""Configuration of the jobs package, from the environment (every field also reads `NAME_FILE`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from servicekit.settings import EnvSettings


class JobsSettings(EnvSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)

    provider: str = Field("redis", validation_alias="JOBS_PROVIDER")
    max_attempts: int = Field(5, ge=1, validation_alias="JOBS_MAX_ATTEMPTS")
    retry_delay_seconds: float = Field(10.0, ge=0, validation_alias="JOBS_RETRY_DELAY_SECONDS")
    concurrency: int = Field(4, ge=1, validation_alias="JOBS_CONCURRENCY")
    worker_port: int = Field(8005, validation_alias="JOBS_WORKER_PORT")
    worker_host: str = Field("127.0.0.1", validation_alias="JOBS_WORKER_HOST")
    app: str | None = Field(None, validation_alias="JOBS_APP")

    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias="JOBS_REDIS_URL")
    redis_prefix: str = Field("jobs", validation_alias="JOBS_REDIS_PREFIX")
    redis_group: str = Field("workers", validation_alias="JOBS_REDIS_GROUP")
    redis_claim_idle_seconds: float = Field(60.0, gt=0, validation_alias="JOBS_REDIS_CLAIM_IDLE_SECONDS")
    redis_max_len: int = Field(1_000_000, ge=1000, validation_alias="JOBS_REDIS_MAX_LEN")

    pubsub_project_id: str = Field("local-project", validation_alias="PUBSUB_PROJECT_ID")
    pubsub_emulator_host: str | None = Field(None, validation_alias="PUBSUB_EMULATOR_HOST")
    pubsub_topic_prefix: str = Field("jobs.", validation_alias="PUBSUB_TOPIC_PREFIX")
    pubsub_subscription: str = Field("workers", validation_alias="PUBSUB_SUBSCRIPTION")
    pubsub_ack_deadline_seconds: int = Field(60, ge=10, le=600, validation_alias="PUBSUB_ACK_DEADLINE_SECONDS")

    qstash_token: str | None = Field(None, validation_alias="QSTASH_TOKEN")
    qstash_url: str = Field("https://qstash.upstash.io", validation_alias="QSTASH_URL")
    qstash_current_signing_key: str | None = Field(None, validation_alias="QSTASH_CURRENT_SIGNING_KEY")
    qstash_next_signing_key: str | None = Field(None, validation_alias="QSTASH_NEXT_SIGNING_KEY")
    push_base_url: str | None = Field(None, validation_alias="JOBS_PUSH_BASE_URL")

    trigger_secret_key: str | None = Field(None, validation_alias="TRIGGER_SECRET_KEY")
    trigger_api_url: str = Field("https://api.trigger.dev", validation_alias="TRIGGER_API_URL")
    trigger_task_id: str = Field("jobs-deliver", min_length=1, validation_alias="TRIGGER_TASK_ID")
    trigger_queue: str | None = Field(None, validation_alias="TRIGGER_QUEUE")
    trigger_ttl: str | None = Field(None, validation_alias="TRIGGER_TTL")
    trigger_timeout_seconds: float = Field(10.0, gt=0, validation_alias="TRIGGER_TIMEOUT_SECONDS")
    # The secret the relay task signs each push with and the push endpoint verifies (both sides set it).
    relay_secret: str | None = Field(None, min_length=16, validation_alias="JOBS_RELAY_SECRET")
