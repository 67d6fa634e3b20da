"""Simulator settings, from the environment (``SIM_*``); sensible defaults for the local stack."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SimSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIM_", extra="ignore")

    seed: int = 7
    # Stand-in values of a simulator, not secrets: they sign its cookies and open its fake portals.
    secret_key: str = "loadboard-sim-not-secret"  # noqa: S105
    jbhunt_username: str = "dispatch@example.com"
    jbhunt_password: str = "jbhunt-sim-password"  # noqa: S105
    landstar_username: str = "dispatch"
    landstar_password: str = "landstar-sim-password"  # noqa: S105
    jbhunt_loads: int = 48
    landstar_loads: int = 45
    jbhunt_page_size: int = 12
    landstar_page_size: int = 15
    slow_seconds: float = 5.0
    # Bodies past this (login forms, /_sim/faults) are refused with 413, as the services refuse theirs.
    max_content_length: int = 1_048_576
    # Faults on for every request of a portal, e.g. "landstar=500" or "jbhunt=login,landstar=layout".
    faults: str = ""
    # The /_sim/faults control endpoint, which tests use to arm one-off faults.
    control_enabled: bool = True

    def configured_faults(self) -> dict[str, str]:
        pairs = (item.split("=", 1) for item in self.faults.split(",") if "=" in item)
        return {portal.strip(): fault.strip() for portal, fault in pairs}
