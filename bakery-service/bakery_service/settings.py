"""bakery-service settings: servicekit's base plus the service's own (environment or *_FILE).

Each integration is switched on by its credentials: without them it is "disabled" and its actions are held
in the outbox, counted apart from the pending ones, and sent once the credentials exist.
"""

from typing import Literal

from pydantic import Field, SecretStr
from servicekit import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "bakery-service"
    database_url: str
    # Where the web page and Jira tickets link back to (the public base URL of this service).
    public_base_url: str = "http://localhost:8004"
    database_pool_size: int = Field(default=5, ge=1, le=50)
    # The web page signs in through this login (fleet-api's), forwarded by bakery-service's POST /ui/login.
    auth_login_url: str = "http://localhost:8001/auth/login"
    # Background work of each worker process: the outbox processor and the daily Jira batch. Tests turn it
    # off and drive both by hand.
    schedule_enabled: bool = True

    # Jira Cloud REST API v3 (basic auth: account e-mail + API token).
    jira_url: str | None = None
    jira_email: str | None = None
    jira_api_token: SecretStr | None = None
    jira_project_key: str = "BAKE"
    jira_issue_type: str = "Task"
    # per-order: one ticket per order; daily: one ticket a day with the sum of the day's orders.
    jira_mode: Literal["per-order", "daily"] = "daily"
    jira_batch_hour_utc: int = Field(default=6, ge=0, le=23)
    # The secret Jira signs webhooks with (HMAC-SHA256, header X-Hub-Signature: sha256=<hex>).
    jira_webhook_secret: SecretStr | None = None

    # Slack Web API (bot token with users:read, im:write, chat:write).
    slack_bot_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    # SMTP for the e-mail fallback of the ready notice.
    smtp_host: str | None = None
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "bakery@example.com"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    # Who the customer's e-mails come from (the sender's display name), and where and when to collect an order.
    bakery_name: str = Field(default="The Bakery", min_length=1, max_length=100)
    bakery_pickup_address: str = Field(default="1 Market Street, Springfield", min_length=1, max_length=300)
    bakery_opening_hours: str = Field(default="Monday to Saturday, 7:00 to 19:00", min_length=1, max_length=300)

    # Google Drive (service account JSON key; the Orders/ folder's id, shared with the service account).
    google_service_account_json: SecretStr | None = None
    google_drive_orders_folder_id: str | None = None
    google_api_url: str = "https://www.googleapis.com/"

    # GitHub REST API (a token allowed to manage collaborators of the repository).
    github_token: SecretStr | None = None
    github_repository: str | None = None  # owner/name
    github_api_url: str = "https://api.github.com"
    github_permission: Literal["pull", "triage", "push", "maintain", "admin"] = "push"
    # GitHub asks integrators to space writes at least a second apart, against its secondary rate limits.
    github_seconds_between_writes: float = Field(default=1.0, ge=0)

    # Outbox of outside actions: retried with exponential backoff up to this many attempts, then the dead letter.
    integration_max_attempts: int = Field(default=8, ge=1)
    integration_retry_base_seconds: float = Field(default=2.0, gt=0)
    integration_retry_max_seconds: float = Field(default=600.0, gt=0)
    integration_poll_seconds: float = Field(default=2.0, gt=0)
    # How long a processor holds an action it is sending before another may take it over (well above the
    # timeout of one call, so that a call still under way is never made twice).
    integration_lease_seconds: float = Field(default=120.0, gt=0)
    # How long one call to an outside API may take.
    integration_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # How long Jira's search (and Slack's history) may take to show an effect just made: after an attempt
    # that may have acted, a retry looks it up until this long after that attempt's call ended before
    # ever making it again.
    integration_lookup_lag_seconds: float = Field(default=30.0, ge=0, le=3600)

    def webhook_secret(self) -> str | None:
        """The secret Jira's deliveries are signed with, as text; None when unset."""
        return self.jira_webhook_secret.get_secret_value() if self.jira_webhook_secret else None
