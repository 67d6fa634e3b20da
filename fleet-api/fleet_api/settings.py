"""fleet-api settings: servicekit's base plus the service's own (environment or *_FILE)."""

from typing import Literal

from pydantic import SecretStr
from servicekit import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "fleet-api"
    # Secret: the URL may carry a password, and SecretStr keeps it out of reprs and logs.
    database_url: SecretStr
    database_pool_size: int = 5
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    loads_cache_ttl_seconds: int = 60
    # local: per-process copy kept valid by Redis invalidation pushes (fastest); redis: one GET per
    # request; off: always Postgres (for comparison in the benchmark).
    loads_cache_mode: Literal["local", "redis", "off"] = "local"
    demo_user_name: str = "Demo Dispatcher"
    demo_user_email: str = "demo@fleet.example"
    # Empty disables the demo user.
    demo_user_password: SecretStr = SecretStr("demo-password")
    # The outbox relay's own /metrics (backlog, events published) for Prometheus; 0 turns it off.
    relay_metrics_port: int = 9101
    # Prometheus scrapes the relay from its own container, so it listens beyond loopback.
    relay_metrics_address: str = "0.0.0.0"  # noqa: S104  # nosec B104
