"""fleet-api settings: servicekit's base plus the service's own (environment or *_FILE)."""

from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode
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
    # Login throttling (fleet_api/adapters/login_throttle.py): failed logins allowed within the window, per client
    # address (any accounts), per account (from any addresses) and per account from one address; the next attempt
    # is 429 with Retry-After until enough failures are older than the window.
    login_failure_window_seconds: int = Field(300, ge=1, le=86_400)
    login_max_failures_per_address: int = Field(20, ge=1)
    login_max_failures_per_account: int = Field(50, ge=1)
    login_max_failures_per_account_and_address: int = Field(5, ge=1)
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks, e.g. "10.0.0.0/8,::1").
    # Empty: the client address is the connection's peer and X-Forwarded-For is ignored.
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())
        return value
