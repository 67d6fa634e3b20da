"""audit-worker settings: servicekit's base plus the service's own (environment or *_FILE).

The bus itself is configured by the jobs package's settings (JOBS_PROVIDER, JOBS_REDIS_URL,
PUBSUB_EMULATOR_HOST...).
"""

from typing import Literal

from pydantic import SecretStr
from servicekit import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "audit-worker"
    # mongo: compose and production; postgres: the local stack (schema audit, durable, shared by every
    # process); memory: one process only, lost on restart.
    audit_store: Literal["memory", "mongo", "postgres"] = "memory"
    # Only for AUDIT_STORE=postgres.
    database_url: SecretStr | None = None
    audit_memory_max_documents: int = 100_000
    mongo_url: SecretStr = SecretStr("mongodb://127.0.0.1:27017")
    mongo_database: str = "audit"
    # embedded: a consumer thread inside the web process (required with the memory store); off: the
    # HTTP app only, with consumers run by `python -m audit_worker.consumer`.
    audit_consumer: Literal["embedded", "off"] = "embedded"
    # Driver notifications: always a log line and a metric; an e-mail too when SMTP_HOST is set.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    notify_email_from: str = "fleet-notifications@fleet.example"
    notify_email_to: str = "dispatch@fleet.example"
