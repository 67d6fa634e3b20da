"""Every callee's worst case fits inside its caller's timeout, in every configuration the suite ships
(the code's defaults, .env.example, docker-compose.yml's environment): a caller that gives up first
retries work its callee is still doing, and its user waits for both.

The pairs: automation-service -> gpt-service (GPT_TIMEOUT_SECONDS per attempt against gpt-service's
whole worst case, the model's retries included), gunicorn -> gpt-service (a worker is killed after
GUNICORN_TIMEOUT), and servicekit's /readyz -> fleet-api's Redis ping (the readiness deadline).
"""

from __future__ import annotations

import pytest
import yaml
from suite_support import ROOT, example_env

SHIPPED = {"defaults": {}, ".env.example": example_env()}
REQUIRED = {"JWT_SECRET": "x" * 40, "DATABASE_URL": "postgresql://u@127.0.0.1/db"}


def compose_env(service: str) -> dict[str, str]:
    """A service's environment in docker-compose.yml, with ${VAR:-default} read as its default."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = {}
    for key, value in (compose["services"][service].get("environment") or {}).items():
        value = str(value)
        if value.startswith("${") and ":-" in value:
            value = value.split(":-", 1)[1].rstrip("}")
        env[key] = value
    return env


def settings_of(module: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    import importlib

    for key, value in {**REQUIRED, **env}.items():
        if not key.endswith("_FILE"):
            monkeypatch.setenv(key, value)
    return importlib.import_module(module).Settings()


@pytest.mark.parametrize("source", ["defaults", ".env.example", "docker-compose.yml"])
def test_gpt_service_answers_before_automation_service_gives_up(source, monkeypatch) -> None:
    if source == "docker-compose.yml":
        gpt_env, automation_env = compose_env("gpt-service"), compose_env("automation-service")
    else:
        gpt_env = automation_env = SHIPPED[source]
    gpt = settings_of("gpt_service.settings", gpt_env, monkeypatch)
    automation = settings_of("automation_service.settings", automation_env, monkeypatch)

    assert gpt.worst_case_seconds < automation.gpt_timeout_seconds, (
        f"{source}: gpt-service may take {gpt.worst_case_seconds:g}s (OPENAI_DEADLINE_SECONDS "
        f"{gpt.openai_deadline_seconds:g} + connect {gpt.openai_connect_timeout_seconds:g} + overhead "
        f"{gpt.overhead_seconds:g}), automation-service waits {automation.gpt_timeout_seconds:g}s"
    )
    # The caller's budget in X-Request-Timeout-Ms caps the callee however the callee is configured.
    capped = gpt.model_budget_seconds(automation.gpt_timeout_seconds)
    assert capped + gpt.openai_connect_timeout_seconds + gpt.overhead_seconds <= automation.gpt_timeout_seconds


@pytest.mark.parametrize("source", ["defaults", ".env.example"])
def test_gpt_service_answers_before_gunicorn_kills_its_worker(source, monkeypatch) -> None:
    env = SHIPPED[source]
    gpt = settings_of("gpt_service.settings", env, monkeypatch)
    gunicorn_timeout = float(env.get("GUNICORN_TIMEOUT", "60"))
    assert gpt.worst_case_seconds < gunicorn_timeout


@pytest.mark.parametrize("source", ["defaults", ".env.example"])
def test_fleet_api_redis_ping_fits_the_readiness_deadline(source, monkeypatch) -> None:
    from fleet_api.adapters.readiness import CACHE_PING_TIMEOUT_SECONDS

    fleet = settings_of("fleet_api.settings", SHIPPED[source], monkeypatch)
    # Connect and read may each take the timeout; half the deadline leaves room for the other checks.
    assert 2 * CACHE_PING_TIMEOUT_SECONDS < fleet.readiness_timeout_seconds / 2


def test_the_caller_budget_shrinks_the_model_deadline(monkeypatch) -> None:
    gpt = settings_of("gpt_service.settings", {}, monkeypatch)
    assert gpt.model_budget_seconds(None) == gpt.openai_deadline_seconds
    assert gpt.model_budget_seconds(5.0) == pytest.approx(5.0 - gpt.openai_connect_timeout_seconds - 0.5)
