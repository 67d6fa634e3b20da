"""What the suite-wide tests need to know about the six services."""

from __future__ import annotations

import importlib
import os
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {
    "dispatch-service": 8000,
    "fleet-api": 8001,
    "gpt-service": 8002,
    "automation-service": 8003,
    "bakery-service": 8004,
    "audit-worker": 8005,
}
TEST_SECRET = "suite-contract-test-secret-long-enough-for-any-hmac-0123456789abcdef"


def example_env() -> dict[str, str]:
    env = {}
    for line in (ROOT / ".env.example").read_text().splitlines() if (ROOT / ".env.example").exists() else []:
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip().strip('"').strip("'")
    return env


def offline_env(closed_port: int) -> dict[str, str]:
    """Settings that start every service with every dependency unreachable."""
    env = example_env()
    env.update(
        {
            "JWT_SECRET": TEST_SECRET,
            "DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{closed_port}/none",
            "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0",
            "JOBS_PROVIDER": "inprocess",
            "AUDIT_STORE": "memory",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "SEED_DEMO_USER": "false",
            "SCHEDULE_ENABLED": "false",
        }
    )
    env.pop("JWT_SECRET_FILE", None)
    # Tokens here are minted for no real user, and an unreachable token-version Redis would answer every one
    # 503 (fail closed): revocation is off, as in each service's own tests; its tests set AUTH_REDIS_URL.
    env.pop("AUTH_REDIS_URL", None)
    return env


def package_of(service: str) -> str:
    return service.replace("-", "_")


def build(service: str, env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return importlib.import_module(package_of(service)).create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def fill_path(path: str) -> str:
    """An OpenAPI path with every parameter replaced by a well-formed value: a day where the parameter
    is one (``{date}``, servicekit's date converter), an id elsewhere."""
    import re

    return re.sub(r"\{([^}]+)\}", lambda m: "2026-11-30" if m.group(1) == "date" else str(uuid.UUID(int=1)), path)
