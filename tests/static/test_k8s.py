"""infra/k8s: generated from infra/generate.py and up to date; each service a Deployment and a Service
with probes, resources and a non-root, read-only security context."""

from __future__ import annotations

import subprocess
import sys

import pytest
import static_rules as rules
import yaml


def _docs(root, name):
    return {doc["kind"]: doc for doc in yaml.safe_load_all((root / "infra" / "k8s" / f"{name}.yaml").read_text())}


def test_generated_files_are_up_to_date(root):
    result = subprocess.run(
        [sys.executable, str(root / "infra" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", sorted(rules.SERVICES))
def test_deployment_and_service(root, name):
    docs = _docs(root, name)
    port = rules.SERVICES[name]
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and container["resources"]["limits"]
    context = container["securityContext"]
    assert context["runAsNonRoot"] and context["runAsUser"] >= 10000
    assert context["readOnlyRootFilesystem"] and not context["allowPrivilegeEscalation"]
    assert context["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["automountServiceAccountToken"] is False
    assert ":latest" not in container["image"]
    assert docs["Service"]["spec"]["ports"][0]["port"] == port
    assert docs["Service"]["spec"]["selector"] == docs["Deployment"]["spec"]["selector"]["matchLabels"]
    # Secrets as files, by the same *_FILE contract as compose, never as literal values.
    for env in container["env"]:
        assert not rules.is_secret_name(env["name"]) or env["value"].startswith("/run/secrets/"), env


def test_kustomization_lists_every_manifest(root):
    kustomization = yaml.safe_load((root / "infra/k8s/kustomization.yaml").read_text())
    files = {p.name for p in (root / "infra/k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
