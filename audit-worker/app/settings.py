"""audit-worker settings: servicekit's base plus the service's own (environment or *_FILE)."""

from servicekit import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "audit-worker"
    redis_url: str = "redis://127.0.0.1:6379/0"
