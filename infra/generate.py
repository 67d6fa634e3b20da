"""Writes the per-service files of infra/ from one table: k8s manifests and Grafana dashboards.

Six services share one shape, so the files are generated rather than copied by hand; a test
(tests/static/test_infra_generated.py) fails when a committed file differs from what this writes.

    python infra/generate.py           # rewrite the files
    python infra/generate.py --check   # exit 1 and name the files that are out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

INFRA = Path(__file__).resolve().parent
NAMESPACE = "trucking-suite"
REGISTRY = "registry.example.com/trucking-suite"
VERSION = "0.1.0"
UID = 10001


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    title: str
    secrets: tuple[str, ...] = ("jwt_secret",)
    env: dict[str, str] = field(default_factory=dict)
    memory: str = "256Mi"
    memory_limit: str = "512Mi"


SERVICES = (
    Service(
        "dispatch-service",
        8000,
        "Dispatch: package-to-driver assignment",
        secrets=("jwt_secret",),
        env={
            "AWS_REGION": "us-east-1",
            "ASSIGNMENTS_TABLE": "DeliveryAssignments",
            "LOGS_BUCKET": "dispatch-operational-logs",
        },
        memory="512Mi",
        memory_limit="1Gi",
    ),
    Service(
        "fleet-api",
        8001,
        "Fleet API: drivers, loads, assignments",
        secrets=("jwt_secret", "database_url", "demo_user_password"),
        env={"REDIS_URL": "redis://redis:6379/0"},
    ),
    Service(
        "gpt-service",
        8002,
        "GPT service: load summaries",
        secrets=("jwt_secret", "openai_api_key"),
        env={"OPENAI_MODEL": "gpt-4o-mini"},
    ),
    Service(
        "automation-service",
        8003,
        "Automation: loadboard extraction",
        secrets=("jwt_secret", "database_url"),
        env={"GPT_SERVICE_URL": "http://gpt-service:8002", "CHROMIUM_PATH": "/usr/bin/chromium"},
        memory="768Mi",
        memory_limit="1536Mi",
    ),
    Service(
        "bakery-service",
        8004,
        "Bakery: cakes, orders, integrations",
        secrets=(
            "jwt_secret",
            "database_url",
            "smtp_password",
            "jira_api_token",
            "slack_bot_token",
            "github_token",
            "google_service_account_json",
        ),
    ),
    Service(
        "audit-worker",
        8005,
        "Audit worker: fleet events to the audit trail",
        secrets=("jwt_secret",),
        env={"REDIS_URL": "redis://redis:6379/0"},
    ),
)


# --- Kubernetes ---------------------------------------------------------------------------------------


def _labels(service: Service) -> dict:
    return {"app.kubernetes.io/name": service.name, "app.kubernetes.io/part-of": NAMESPACE}


def _probe(path: str, period: int, failures: int) -> dict:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def deployment(service: Service) -> dict:
    env = [{"name": "PORT", "value": str(service.port)}, {"name": "LOG_DIR", "value": "/var/log/suite"}]
    env += [{"name": k, "value": v} for k, v in service.env.items()]
    # Secrets reach the pod as files, the same *_FILE contract as in compose; never as env values.
    env += [{"name": f"{s.upper()}_FILE", "value": f"/run/secrets/{s}"} for s in service.secrets]
    container = {
        "name": service.name,
        "image": f"{REGISTRY}/{service.name}:{VERSION}",
        "imagePullPolicy": "Always",
        "ports": [{"name": "http", "containerPort": service.port}],
        "env": env,
        "startupProbe": _probe("/healthz", 2, 30),
        "livenessProbe": _probe("/healthz", 10, 3),
        "readinessProbe": _probe("/readyz", 5, 2),
        "resources": {
            "requests": {"cpu": "100m", "memory": service.memory},
            "limits": {"cpu": "1", "memory": service.memory_limit},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - a private emptyDir, not a shared /tmp
            {"name": "logs", "mountPath": "/var/log/suite"},
            {"name": "secrets", "mountPath": "/run/secrets", "readOnly": True},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": service.name,
            "namespace": NAMESPACE,
            "labels": _labels(service),
            "annotations": {
                "checkov.io/skip1": "CKV_K8S_43=Tags are pinned releases; the deploy "
                "pipeline resolves them to digests of its own registry (kustomize images)."
            },
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": service.name}},
            "template": {
                "metadata": {
                    "labels": _labels(service),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/path": "/metrics",
                        "prometheus.io/port": str(service.port),
                    },
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "fsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}},
                        {"name": "logs", "emptyDir": {"sizeLimit": "1Gi"}},
                        {
                            "name": "secrets",
                            "secret": {
                                "secretName": "trucking-suite-secrets",
                                "defaultMode": 0o440,
                                "items": [{"key": s, "path": s} for s in service.secrets],
                            },
                        },
                    ],
                },
            },
        },
    }


def k8s_service(service: Service) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "namespace": NAMESPACE, "labels": _labels(service)},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": service.name},
            "ports": [{"name": "http", "port": service.port, "targetPort": "http"}],
        },
    }


def k8s_manifest(service: Service) -> str:
    header = (
        f"# {service.name}: Deployment and Service. Generated by infra/generate.py; edit that, not this.\n"
        "# Secrets come from the Secret trucking-suite-secrets (see infra/README.md).\n"
    )
    docs = [yaml.safe_dump(doc, sort_keys=False, width=120) for doc in (deployment(service), k8s_service(service))]
    return header + "---\n".join(docs)


# --- Grafana --------------------------------------------------------------------------------------------


def _panel(panel_id: int, title: str, exprs: list[tuple[str, str]], unit: str, x: int, y: int) -> dict:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "expr": expr,
                "legendFormat": legend,
                "datasource": {"type": "prometheus", "uid": "prometheus"},
            }
            for i, (expr, legend) in enumerate(exprs)
        ],
    }


def dashboard(service: Service) -> dict:
    job = f'job="{service.name}"'
    job_5xx = job + ', status=~"5.."'
    rate = "rate(flask_http_request_duration_seconds_{kind}{{{sel}}}[$__rate_interval])"
    client = "rate(servicekit_http_client_{kind}{{{sel}}}[$__rate_interval])"
    panels = [
        _panel(
            1,
            "Requests per second by status",
            [(f"sum by (status) ({rate.format(kind='count', sel=job)})", "{{status}}")],
            "reqps",
            0,
            0,
        ),
        _panel(
            2,
            "Share of 5xx responses",
            [
                (
                    f"sum({rate.format(kind='count', sel=job_5xx)}) / sum({rate.format(kind='count', sel=job)})",
                    "5xx",
                )
            ],
            "percentunit",
            12,
            0,
        ),
        _panel(
            3,
            "Latency quantiles",
            [
                (
                    f"histogram_quantile({q}, sum by (le) ({rate.format(kind='bucket', sel=job)}))",
                    f"p{int(q * 100)}",
                )
                for q in (0.5, 0.95, 0.99)
            ],
            "s",
            0,
            8,
        ),
        _panel(
            4,
            "p95 latency by endpoint",
            [
                (
                    f"histogram_quantile(0.95, sum by (le, endpoint) ({rate.format(kind='bucket', sel=job)}))",
                    "{{endpoint}}",
                )
            ],
            "s",
            12,
            8,
        ),
        _panel(
            5,
            "Outgoing calls by target and outcome",
            [
                (
                    f"sum by (target, outcome) ({client.format(kind='requests_total', sel=job)})",
                    "{{target}} {{outcome}}",
                )
            ],
            "reqps",
            0,
            16,
        ),
        _panel(
            6,
            "Outgoing call p95 by target",
            [
                (
                    f"histogram_quantile(0.95, sum by (le, target) "
                    f"({client.format(kind='request_duration_seconds_bucket', sel=job)}))",
                    "{{target}}",
                )
            ],
            "s",
            12,
            16,
        ),
        _panel(7, "Instances up", [(f"sum(up{{{job}}})", "up")], "short", 0, 24),
    ]
    return {
        "uid": service.name,
        "title": service.title,
        "tags": [NAMESPACE, service.name],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "panels": panels,
    }


# --- Writing --------------------------------------------------------------------------------------------


def rendered() -> dict[Path, str]:
    files = {INFRA / "k8s" / f"{s.name}.yaml": k8s_manifest(s) for s in SERVICES}
    files.update(
        {
            INFRA / "grafana" / "dashboards" / f"{s.name}.json": json.dumps(dashboard(s), indent=2) + "\n"
            for s in SERVICES
        }
    )
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report out-of-date files instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            stale.append(path.relative_to(INFRA.parent))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(INFRA.parent)}")
    if stale:
        print("out of date (run python infra/generate.py):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
