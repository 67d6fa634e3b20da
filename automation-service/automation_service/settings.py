"""automation-service settings: servicekit's base plus the service's own (environment or *_FILE)."""

from pydantic import Field, SecretStr
from servicekit import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "automation-service"
    database_url: str
    gpt_service_url: str = "http://127.0.0.1:8002"
    gpt_timeout_seconds: float = 30.0
    gpt_max_attempts: int = 3

    # The portals: base URLs (the simulator by default) and credentials (secrets: *_FILE works).
    jbhunt_url: str = "http://127.0.0.1:8010/jbhunt"
    jbhunt_username: str = "dispatch@example.com"
    jbhunt_password: SecretStr = SecretStr("jbhunt-sim-password")
    landstar_url: str = "http://127.0.0.1:8010/landstar"
    landstar_username: str = "dispatch"
    landstar_password: SecretStr = SecretStr("landstar-sim-password")
    portals: str = "jbhunt,landstar"

    loads_per_portal: int = 20
    max_pages: int = 10

    # Debian's chromium-headless-shell: the headless-only build, about a third of the full browser's CPU per run
    # (the full one, /usr/bin/chromium, works too).
    chromium_path: str = "/usr/lib/chromium/chromium-headless-shell"
    # The worker keeps its Chromium between runs and closes it after this long without one (0: after each run).
    browser_idle_seconds: int = 900
    # Images, fonts, stylesheets, media and other hosts' requests are refused: the extraction reads none of them.
    block_resources: bool = True
    # One run's extraction, both portals and their retries, before it ends with the portals failed.
    run_timeout_seconds: float = Field(default=600.0, gt=0)
    navigation_timeout_ms: int = 15_000
    # How long a loaded page may take to show an element the adapter needs before the layout counts as changed.
    layout_timeout_ms: int = 5_000
    portal_max_attempts: int = 3
    retry_backoff_seconds: float = 0.5
    retry_backoff_max_seconds: float = 8.0

    # Failure screenshots and HTML go through packages/storage under this prefix.
    artifact_prefix: str = "automation/failures"

    # 0 = no scheduled runs (the default, and what tests use).
    schedule_interval_seconds: int = 0
    # A run whose worker died keeps no heartbeat; after this long it is marked failed so runs can start again.
    run_stale_after_seconds: int = 900

    def portal_names(self) -> list[str]:
        return [name.strip() for name in self.portals.split(",") if name.strip()]
