"""The service catalogue: one table of the services, of the processes that run from their images, and of
their ports. `make generate` (infra/generate.py) writes from it everything that names a port or a
service's environment: compose's ports, environment and healthchecks, prometheus.yml, the local stack's
process table, the Kubernetes base, Terraform's ports, .env.example's addresses, the services tables and
every address the Markdown pages give, the Grafana dashboards, and the marked port lines of each service's
Dockerfile, gunicorn.conf.py and settings. A port number is written here and nowhere else by hand
(tests/static/test_catalogue.py).

An environment value may name another entry's address as `{name}` (host:port where the value is used:
`gpt-service:8002` in compose and Kubernetes, `127.0.0.1:8002` on the local stack) or its port as
`{name.port}`. A compose key starting with `#` stands for a comment: its value, line by line.
"""

from __future__ import annotations

import re
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
    """A long-running HTTP service: Deployment, Service, ConfigMap, PodDisruptionBudget, maybe an HPA; a compose
    service publishing its port; a gunicorn under the local stack. Its /metrics is on the same port."""

    name: str
    port: int
    title: str
    # The README's services table: what it owns, what it talks to; infra/README.md's compose table: what it is.
    owns: str = ""
    talks_to: str = ""
    compose_role: str = ""
    secrets: tuple[str, ...] = ("jwt_secret",)
    # Kubernetes' ConfigMap (production values).
    env: dict[str, str] = field(default_factory=dict)
    # docker-compose.yml's environment: the anchors it merges, then its own values (PORT is added).
    compose_anchors: tuple[str, ...] = ("service-env",)
    compose_env: dict[str, str] = field(default_factory=dict)
    # How the image and compose probe /healthz: wget, or Python where the image has no wget (Debian slim).
    probe: str = "wget"
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
    # Where its health endpoint listens when run beside the stack's processes (`make worker`), if it has one.
    local_health_port: int | None = None
    # docker-compose.yml's environment, when compose runs it (None: compose does not).
    compose_anchors: tuple[str, ...] = ("service-env",)
    compose_env: dict[str, str] | None = None
    memory: str = "128Mi"
    memory_limit: str = "256Mi"


@dataclass(frozen=True)
class Simulator:
    """A stand-in for an outside system, run by compose and the local stack from a service's image; not deployed."""

    name: str
    image_of: str
    port: int
    gunicorn_conf: str
    compose_env: dict[str, str] = field(default_factory=dict)
    probe: str = "wget"


SERVICES = (
    Service(
        "dispatch-service",
        8000,
        "Dispatch: package-to-driver assignment",
        owns="daily package-to-driver assignment; DynamoDB table `DeliveryAssignments`; S3 logs",
        talks_to="DynamoDB, S3",
        compose_role="assignments in DynamoDB and S3 (LocalStack)",
        secrets=("jwt_secret", "auth_redis_url", "aws_credentials"),
        env={
            "AWS_REGION": "us-east-1",
            "ASSIGNMENTS_TABLE": "DeliveryAssignments",
            "LOGS_BUCKET": "dispatch-operational-logs",
        },
        compose_env={
            "AWS_ENDPOINT_URL": "http://localstack:4566",
            "AWS_REGION": "${AWS_REGION:-us-east-1}",
            "AWS_SHARED_CREDENTIALS_FILE": "/run/secrets/aws_credentials",
            "ASSIGNMENTS_TABLE": "${ASSIGNMENTS_TABLE:-DeliveryAssignments}",
            "LOGS_BUCKET": "${LOGS_BUCKET:-dispatch-operational-logs}",
            "#provisioning": "Terraform (the one-shot below) owns the table and bucket. LocalStack keeps nothing across"
            " a restart of\nits container: the service must not quietly create them again, empty, and carry on"
            " (README, compose).",
            "PROVISION_AWS_RESOURCES": "false",
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
        owns="users, drivers, loads, assignments (one active load per driver); the suite's login",
        talks_to="Postgres `fleet`, Redis, event bus",
        compose_role="users, drivers, loads; login",
        secrets=(
            "jwt_secret",
            "auth_redis_url",
            "database_url",
            "demo_user_password",
            "redis_url",
            "gcp_service_account_json",
        ),
        env={**PUBSUB_CONFIG},
        compose_anchors=("service-env", "pubsub-env"),
        compose_env={
            "DATABASE_URL_FILE": "/run/secrets/database_url",
            "REDIS_URL": "redis://redis:6379/0",
            "DEMO_USER_PASSWORD_FILE": "/run/secrets/demo_user_password",
        },
        autoscale=(2, 10),
    ),
    Service(
        "gpt-service",
        8002,
        "GPT service: load summaries",
        owns="`POST /summarize-loads` with graceful degradation",
        talks_to="OpenAI-compatible API",
        compose_role="load summaries",
        secrets=("jwt_secret", "auth_redis_url", "openai_api_key", "redis_url"),
        env={"OPENAI_MODEL": "gpt-4o-mini"},
        compose_env={
            "OPENAI_API_KEY_FILE": "/run/secrets/openai_api_key",
            "OPENAI_MODEL": "${OPENAI_MODEL:-gpt-4o-mini}",
            "REDIS_URL": "redis://redis:6379/1",
        },
        autoscale=(2, 6),
    ),
    Service(
        "automation-service",
        8003,
        "Automation: loadboard extraction",
        owns="headless-browser extraction from two loadboard portals",
        talks_to="the portals, gpt-service, Postgres `loadboard`",
        compose_role="portal extraction with Chromium",
        secrets=("jwt_secret", "auth_redis_url", "database_url", "aws_credentials"),
        env={
            "GPT_SERVICE_URL": "http://{gpt-service}",
            "CHROMIUM_PATH": "/usr/lib/chromium/chromium-headless-shell",
            "STORAGE_PROVIDER": "s3",
            "STORAGE_BUCKET": "automation-artifacts",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        compose_env={
            "DATABASE_URL_FILE": "/run/secrets/database_url",
            "GPT_SERVICE_URL": "http://{gpt-service}",
            "CHROMIUM_PATH": "/usr/lib/chromium/chromium-headless-shell",
            "JBHUNT_URL": "http://{loadboard-sim}/jbhunt",
            "LANDSTAR_URL": "http://{loadboard-sim}/landstar",
            "#storage": "Failure screenshots and HTML go to S3 on LocalStack (the root filesystem is read-only).",
            "STORAGE_PROVIDER": "s3",
            "STORAGE_BUCKET": "${STORAGE_BUCKET:-automation-artifacts}",
            "STORAGE_CREATE_IF_MISSING": "true",
            "AWS_ENDPOINT_URL": "http://localstack:4566",
            "AWS_DEFAULT_REGION": "${AWS_REGION:-us-east-1}",
            "AWS_SHARED_CREDENTIALS_FILE": "/run/secrets/aws_credentials",
        },
        probe="python",
        memory="768Mi",
        memory_limit="1536Mi",
        # One run at a time across replicas (a partial unique index); a second replica is for failover.
        calls=("gpt-service",),
    ),
    Service(
        "bakery-service",
        8004,
        "Bakery: cakes, orders, integrations",
        owns="cakes, orders, employees and their integrations",
        talks_to="Postgres `bakery`, Jira, Slack, SMTP, Drive, GitHub",
        compose_role="cakes, orders, integrations",
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
        compose_env={
            "DATABASE_URL_FILE": "/run/secrets/database_url",
            "PUBLIC_BASE_URL": "${PUBLIC_BASE_URL:-http://localhost:{bakery-service.port}}",
            "AUTH_LOGIN_URL": "http://{fleet-api}/auth/login",
            "#integrations": 'Each integration is "disabled" (its actions held in the outbox, sent once it is'
            " configured) until\nits secret file has a value; the non-secret parts come from .env.",
            "SMTP_HOST": "mailpit",
            "SMTP_PORT": "1025",
            "SMTP_USERNAME": "${SMTP_USERNAME:-}",
            "SMTP_PASSWORD_FILE": "/run/secrets/smtp_password",
            "SMTP_FROM": "${SMTP_FROM:-bakery@example.com}",
            "BAKERY_NAME": "${BAKERY_NAME:-The Bakery}",
            "BAKERY_PICKUP_ADDRESS": "${BAKERY_PICKUP_ADDRESS:-1 Market Street, Springfield}",
            "BAKERY_OPENING_HOURS": "${BAKERY_OPENING_HOURS:-Monday to Saturday, 7:00 to 19:00}",
            "JIRA_URL": "${JIRA_URL:-}",
            "JIRA_EMAIL": "${JIRA_EMAIL:-}",
            "JIRA_API_TOKEN_FILE": "/run/secrets/jira_api_token",
            "JIRA_PROJECT_KEY": "${JIRA_PROJECT_KEY:-BAKE}",
            "JIRA_MODE": "${JIRA_MODE:-daily}",
            "JIRA_WEBHOOK_SECRET_FILE": "/run/secrets/jira_webhook_secret",
            "SLACK_BOT_TOKEN_FILE": "/run/secrets/slack_bot_token",
            "SLACK_API_URL": "${SLACK_API_URL:-https://slack.com/api/}",
            "GOOGLE_SERVICE_ACCOUNT_JSON_FILE": "/run/secrets/google_service_account_json",
            "GOOGLE_DRIVE_ORDERS_FOLDER_ID": "${GOOGLE_DRIVE_ORDERS_FOLDER_ID:-}",
            "GITHUB_TOKEN_FILE": "/run/secrets/github_token",
            "GITHUB_REPOSITORY": "${GITHUB_REPOSITORY:-}",
        },
    ),
    Service(
        "audit-worker",
        8005,
        "Audit worker: fleet events to the audit trail",
        owns="the audit trail of fleet events",
        talks_to="event bus, MongoDB `audit_events`",
        compose_role="fleet events to MongoDB",
        secrets=("jwt_secret", "auth_redis_url", "mongo_url", "gcp_service_account_json"),
        # The API serves the trail; the consumer is the audit-consumer Deployment below.
        env={"AUDIT_STORE": "mongo", "AUDIT_CONSUMER": "off", "MONGO_DATABASE": "audit", **PUBSUB_CONFIG},
        compose_anchors=("service-env", "pubsub-env"),
        compose_env={
            "AUDIT_STORE": "mongo",
            "MONGO_URL": "mongodb://mongo:27017",
            "MONGO_DATABASE": "audit",
            "SMTP_HOST": "mailpit",
            "SMTP_PORT": "1025",
        },
    ),
)

PROCESSES = (
    # Publishes fleet-api's outbox; rows are taken FOR UPDATE SKIP LOCKED, so two relays share the work.
    Process(
        "fleet-relay",
        "fleet-api",
        ("python", "-m", "fleet_api.relay"),
        secrets=("jwt_secret", "database_url", "gcp_service_account_json"),
        env={"RELAY_METRICS_PORT": "{fleet-relay.port}", **PUBSUB_CONFIG},
        replicas=2,
        metrics_port=9101,
        compose_anchors=("service-env", "pubsub-env"),
        compose_env={"DATABASE_URL_FILE": "/run/secrets/database_url", "RELAY_METRICS_PORT": "{fleet-relay.port}"},
    ),
    # Consumes fleet events into the audit trail; idempotent on the event id, so redelivery is harmless.
    Process(
        "audit-consumer",
        "audit-worker",
        ("python", "-m", "audit_worker.consumer"),
        secrets=("jwt_secret", "mongo_url", "gcp_service_account_json"),
        env={
            "AUDIT_STORE": "mongo",
            "MONGO_DATABASE": "audit",
            "JOBS_WORKER_PORT": "{audit-consumer.port}",
            **PUBSUB_CONFIG,
        },
        replicas=2,
        health_port=8080,
        local_health_port=8015,
    ),
)

SIMULATORS = (
    # The two loadboard portals' stand-in, which the extraction runs log into.
    Simulator(
        "loadboard-sim",
        "automation-service",
        8010,
        "gunicorn.loadboard-sim.conf.py",
        compose_env={"LOG_DIR": "/var/log/suite", "LOG_LEVEL": "${LOG_LEVEL:-INFO}"},
        probe="python",
    ),
)

# How one process reaches another outside compose and Kubernetes: the local stack gives these to every process
# (with PORT), .env.example lists them, and the settings' defaults are these (name: (value, what it is)).
LOCAL_ADDRESSES = {
    "GPT_SERVICE_URL": ("http://{gpt-service}", "Base URL of gpt-service (automation-service's summaries)."),
    "JBHUNT_URL": ("http://{loadboard-sim}/jbhunt", "The J.B. Hunt portal (the simulator by default)."),
    "LANDSTAR_URL": ("http://{loadboard-sim}/landstar", "The Landstar portal (the simulator by default)."),
    "PUBLIC_BASE_URL": (
        "http://localhost:{bakery-service.port}",
        "Public base URL of bakery-service, which its web page and Jira tickets link back to.",
    ),
    "AUTH_LOGIN_URL": (
        "http://localhost:{fleet-api.port}/auth/login",
        "fleet-api's login, to which bakery-service forwards its page's sign-in.",
    ),
    "RELAY_METRICS_PORT": (
        "{fleet-relay.port}",
        "The outbox relay's own /metrics (backlog, events published), scraped as job fleet-relay; 0 turns it off.",
    ),
    "JOBS_WORKER_PORT": (
        "{audit-worker.port}",
        "Health and metrics port of a standalone `python -m jobs.worker` (`make worker` gives it another, beside the"
        " stack's audit-worker).",
    ),
}
LOCAL_HOST = "127.0.0.1"


def ports() -> dict[str, int]:
    """Every entry's main port: a service's HTTP port, a process's health or metrics port, a simulator's."""
    found: dict[str, int] = {s.name: s.port for s in SERVICES}
    for p in PROCESSES:
        port = p.health_port or p.metrics_port
        if port:
            found[p.name] = port
    found.update({s.name: s.port for s in SIMULATORS})
    return found


def all_port_numbers() -> set[int]:
    """Every port number the catalogue holds, local ones included: the numbers no other file may write."""
    return set(ports().values()) | {p.local_health_port for p in PROCESSES if p.local_health_port}


_REFERENCE = re.compile(r"\{([a-z][a-z0-9-]*)(\.port)?\}")


def resolve(value: str, host_of=lambda name: name) -> str:
    """`{name}` as host:port (the host as `host_of` names it), `{name.port}` as the port."""

    def one(match: re.Match) -> str:
        port = ports()[match.group(1)]
        return str(port) if match.group(2) else f"{host_of(match.group(1))}:{port}"

    return _REFERENCE.sub(one, value)
