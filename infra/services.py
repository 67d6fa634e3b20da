"""The suite as infra/ sees it: one table of the services (and of the processes that run from their
images) that the Kubernetes manifests and the Grafana dashboards are generated from (infra/generate.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

NAMESPACE = "trucking-suite"
REGISTRY = "registry.example.com/trucking-suite"
VERSION = "0.1.0"
UID = 10001

# What every service reads besides its own settings (servicekit's base); values are the production defaults.
COMMON_CONFIG = {
    "LOG_DIR": "/var/log/suite",
    "LOG_LEVEL": "INFO",
    "JWT_ISSUER": "fleet-api",
    "JWT_AUDIENCE": "trucking-suite",
    "WEB_CONCURRENCY": "2",
    "GUNICORN_THREADS": "4",
}
# The event bus in production is Google Cloud Pub/Sub itself (compose runs its emulator).
# Its credentials are the secret gcp_service_account_json, read by Google's libraries from
# GOOGLE_APPLICATION_CREDENTIALS (k8s_render points it at the mounted file).
PUBSUB_CONFIG = {"JOBS_PROVIDER": "pubsub", "PUBSUB_PROJECT_ID": "trucking-suite"}


@dataclass(frozen=True)
class Service:
    """A long-running HTTP service: Deployment, Service, ConfigMap, PodDisruptionBudget, maybe an HPA."""

    name: str
    port: int
    title: str
    secrets: tuple[str, ...] = ("jwt_secret",)
    env: dict[str, str] = field(default_factory=dict)
    memory: str = "256Mi"
    memory_limit: str = "512Mi"
    cpu: str = "100m"
    cpu_limit: str = "1"
    replicas: int = 2
    # (min, max) replicas for a HorizontalPodAutoscaler on CPU; None where load does not vary.
    autoscale: tuple[int, int] | None = None
    # Whom it calls inside the namespace (NetworkPolicy egress), by service name.
    calls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Process:
    """Another long-running process from a service's image (no Service object of its own)."""

    name: str
    image_of: str
    command: tuple[str, ...]
    secrets: tuple[str, ...]
    env: dict[str, str]
    replicas: int = 1
    health_port: int | None = None
    # A process without /healthz that still serves Prometheus metrics: scraped, and probed for liveness there.
    metrics_port: int | None = None
    memory: str = "128Mi"
    memory_limit: str = "256Mi"


SERVICES = (
    Service(
        "dispatch-service",
        8000,
        "Dispatch: package-to-driver assignment",
        secrets=("jwt_secret", "auth_redis_url", "aws_credentials"),
        env={
            "AWS_REGION": "us-east-1",
            "ASSIGNMENTS_TABLE": "DeliveryAssignments",
            "LOGS_BUCKET": "dispatch-operational-logs",
        },
        memory="512Mi",
        memory_limit="1Gi",
        # The morning assignment is the peak; the rest of the day is status updates.
        autoscale=(2, 6),
    ),
    Service(
        "fleet-api",
        8001,
        "Fleet API: drivers, loads, assignments",
        secrets=(
            "jwt_secret",
            "auth_redis_url",
            "database_url",
            "demo_user_password",
            "redis_url",
            "gcp_service_account_json",
        ),
        env={**PUBSUB_CONFIG},
        autoscale=(2, 10),
    ),
    Service(
        "gpt-service",
        8002,
        "GPT service: load summaries",
        secrets=("jwt_secret", "auth_redis_url", "openai_api_key", "redis_url"),
        env={"OPENAI_MODEL": "gpt-4o-mini"},
        autoscale=(2, 6),
    ),
    Service(
        "automation-service",
        8003,
        "Automation: loadboard extraction",
        secrets=("jwt_secret", "auth_redis_url", "database_url", "aws_credentials"),
        env={
            "GPT_SERVICE_URL": "http://gpt-service:8002",
            "CHROMIUM_PATH": "/usr/lib/chromium/chromium-headless-shell",
            "STORAGE_PROVIDER": "s3",
            "STORAGE_BUCKET": "automation-artifacts",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        memory="768Mi",
        memory_limit="1536Mi",
        # One run at a time across replicas (a partial unique index); a second replica is for failover.
        calls=("gpt-service",),
    ),
    Service(
        "bakery-service",
        8004,
        "Bakery: cakes, orders, integrations",
        secrets=(
            "jwt_secret",
            "auth_redis_url",
            "database_url",
            "smtp_password",
            "jira_api_token",
            "jira_webhook_secret",
            "slack_bot_token",
            "github_token",
            "google_service_account_json",
        ),
        env={"SMTP_HOST": "smtp.example.com", "SMTP_PORT": "587", "SMTP_STARTTLS": "true"},
    ),
    Service(
        "audit-worker",
        8005,
        "Audit worker: fleet events to the audit trail",
        secrets=("jwt_secret", "auth_redis_url", "mongo_url", "gcp_service_account_json"),
        # The API serves the trail; the consumer is the audit-consumer Deployment below.
        env={"AUDIT_STORE": "mongo", "AUDIT_CONSUMER": "off", "MONGO_DATABASE": "audit", **PUBSUB_CONFIG},
    ),
)

PROCESSES = (
    # Publishes fleet-api's outbox; rows are taken FOR UPDATE SKIP LOCKED, so two relays share the work.
    Process(
        "fleet-relay",
        "fleet-api",
        ("python", "-m", "fleet_api.relay"),
        secrets=("jwt_secret", "database_url", "gcp_service_account_json"),
        env={"RELAY_METRICS_PORT": "9101", **PUBSUB_CONFIG},
        replicas=2,
        metrics_port=9101,
    ),
    # Consumes fleet events into the audit trail; idempotent on the event id, so redelivery is harmless.
    Process(
        "audit-consumer",
        "audit-worker",
        ("python", "-m", "audit_worker.consumer"),
        secrets=("jwt_secret", "mongo_url", "gcp_service_account_json"),
        env={"AUDIT_STORE": "mongo", "MONGO_DATABASE": "audit", "JOBS_WORKER_PORT": "8080", **PUBSUB_CONFIG},
        replicas=2,
        health_port=8080,
    ),
)
