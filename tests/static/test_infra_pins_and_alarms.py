"""The Terraform providers are pinned and locked, alarm_email drives alarms, the relay is probed and scraped.

Each of these failed on the tree before they were added: infra/terraform allowed `~> 6.0` with no lock file
(a fresh volume of compose's Terraform one-shot could pick any 6.x), `alarm_email` was declared and used
nowhere, and the fleet-relay Deployment had neither probe nor scrape annotation though it serves :9101/metrics.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import hcl2
import pytest
import static_rules as rules
import yaml

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_ROOTS = ("infra/terraform", "infra/terraform/aws")
# The platforms the providers run on: compose's one-shot (hashicorp/terraform on amd64 or arm64 Docker hosts),
# CI and people's machines. A zh: hash is the registry's checksum of one platform's package.
PLATFORMS = ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64")


def lock_file(folder: str) -> dict[str, dict]:
    """provider address -> {version, constraints, hashes}, from the folder's .terraform.lock.hcl."""
    text = (ROOT / folder / ".terraform.lock.hcl").read_text(encoding="utf-8")
    providers = {}
    for m in re.finditer(r'provider "([^"]+)" \{(.*?)\n\}', text, re.S):
        body = m.group(2)
        providers[m.group(1)] = {
            "version": re.search(r'version\s*=\s*"([^"]+)"', body).group(1),
            "constraints": re.search(r'constraints\s*=\s*"([^"]+)"', body).group(1),
            "hashes": re.findall(r'"((?:h1|zh):[^"]+)"', body),
        }
    return providers


def required_providers(folder: str) -> dict[str, dict]:
    options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    with (ROOT / folder / "versions.tf").open(encoding="utf-8") as handle:
        terraform = hcl2.load(handle, serialization_options=options)["terraform"][0]
    found = {}
    for block in terraform["required_providers"]:
        found.update(block)
    return found


@pytest.mark.parametrize("folder", TERRAFORM_ROOTS)
def test_every_provider_is_pinned_to_the_release_its_committed_lock_file_holds(folder):
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", f"{folder}/.terraform.lock.hcl"], cwd=ROOT, capture_output=True
    )
    assert tracked.returncode == 0 or not (ROOT / ".git").exists(), f"{folder}/.terraform.lock.hcl is not committed"
    locked = lock_file(folder)
    required = required_providers(folder)
    assert set(locked) == {f"registry.terraform.io/{spec['source']}" for spec in required.values()}
    for name, spec in required.items():
        entry = locked[f"registry.terraform.io/{spec['source']}"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", spec["version"]), f"{name}: pin one release, not {spec['version']}"
        assert entry["version"] == spec["version"] and entry["constraints"] == spec["version"], (name, entry)
        # One zh: per platform package the registry publishes, so init verifies on any of PLATFORMS.
        zh = [h for h in entry["hashes"] if h.startswith("zh:")]
        assert len(zh) >= len(PLATFORMS) and all(re.fullmatch(r"zh:[0-9a-f]{64}", h) for h in zh), name
        assert all(re.fullmatch(r"h1:[A-Za-z0-9+/]{43}=", h) for h in entry["hashes"] if h.startswith("h1:"))


def test_both_roots_use_the_same_aws_provider():
    versions = {folder: required_providers(folder)["aws"]["version"] for folder in TERRAFORM_ROOTS}
    assert len(set(versions.values())) == 1, versions


def test_compose_one_shot_gets_the_lock_file():
    """The Terraform one-shot copies /src/. (hidden files too) into its volume before init."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    terraform = compose["services"]["terraform"]
    assert "./infra/terraform:/src:ro" in terraform["volumes"]
    assert "cp -R /src/. /work/" in " ".join(terraform["command"])
    ignored = (ROOT / ".dockerignore").read_text() + (ROOT / ".gitignore").read_text()
    assert ".terraform.lock.hcl" not in ignored


@pytest.fixture(scope="module")
def aws() -> dict:
    return rules.terraform_blocks(ROOT / "infra" / "terraform" / "aws")


def _resources(tf: dict, kind: str) -> dict[str, dict]:
    return {name: spec for block in tf["resource"] if kind in block for name, spec in block[kind].items()}


def test_alarm_email_subscribes_to_the_topic_every_alarm_notifies(aws):
    topic = rules.terraform_resource(aws, "aws_sns_topic", "alarms")
    assert topic["kms_master_key_id"], "the alarms topic is encrypted"
    subscription = rules.terraform_resource(aws, "aws_sns_topic_subscription", "alarm_email")
    assert subscription["endpoint"] == "${var.alarm_email}" and subscription["protocol"] == "email"
    assert subscription["topic_arn"] == "${aws_sns_topic.alarms.arn}"
    alarms = _resources(aws, "aws_cloudwatch_metric_alarm")
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["alarm_actions"] == "${local.alarm_actions}", name
        assert alarm["ok_actions"] == "${local.alarm_actions}", name
    assert rules.terraform_locals(aws)["alarm_actions"] == ["${aws_sns_topic.alarms.arn}"]


def _metrics(alarm: dict) -> set[tuple[str, str]]:
    """(namespace, metric) of an alarm, whether a single metric or metric math."""
    if "metric_name" in alarm:
        return {(alarm["namespace"], alarm["metric_name"])}
    return {
        (query["metric"][0]["namespace"], query["metric"][0]["metric_name"])
        for query in alarm["metric_query"]
        if query.get("metric")
    }


def test_the_alarms_cover_what_the_issue_lists(aws):
    alarms = _resources(aws, "aws_cloudwatch_metric_alarm")
    covered = {metric for alarm in alarms.values() for metric in _metrics(alarm)}
    for needed in [
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),  # 5xx rate (with RequestCount)
        ("AWS/ApplicationELB", "RequestCount"),
        ("AWS/ApplicationELB", "TargetResponseTime"),  # latency
        ("ECS/ContainerInsights", "RunningTaskCount"),  # tasks dying and being replaced
        ("AWS/RDS", "CPUUtilization"),
        ("AWS/RDS", "FreeStorageSpace"),
        ("AWS/ElastiCache", "Evictions"),
    ]:
        assert needed in covered, needed
    # Per service where the load balancer measures them, per service and worker for tasks.
    assert alarms["http_5xx_rate"]["for_each"] == "${local.services}"
    assert alarms["latency_p95"]["for_each"] == "${local.services}"
    assert alarms["task_restarts"]["for_each"] == "${merge(local.services, local.workers)}"
    cluster = rules.terraform_resource(aws, "aws_ecs_cluster", "main")
    assert {"name": "containerInsights", "value": "enabled"} in cluster["setting"] or any(
        s.get("name") == "containerInsights" and s.get("value") in ("enabled", "enhanced") for s in cluster["setting"]
    )


def test_cloudwatch_may_use_the_key_that_encrypts_the_topic(aws):
    text = (ROOT / "infra/terraform/aws/kms.tf").read_text(encoding="utf-8")
    assert 'Principal = { Service = "cloudwatch.amazonaws.com" }' in text
    assert re.search(r'Sid\s*=\s*"CloudWatchAlarmsPublish".*?kms:GenerateDataKey\*', text, re.S)


def test_fleet_relay_is_probed_and_scraped_on_its_metrics_port():
    docs = list(yaml.safe_load_all((ROOT / "infra/k8s/base/fleet-relay.yaml").read_text(encoding="utf-8")))
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    template = deployment["spec"]["template"]
    (container,) = template["spec"]["containers"]
    config = (ROOT / "infra/k8s/base/kustomization.yaml").read_text(encoding="utf-8")
    port = 9101
    assert f"RELAY_METRICS_PORT={port}" in config  # the relay serves its metrics there (fleet_api.relay)
    assert {"name": "metrics", "containerPort": port} in container["ports"]
    probe = container["livenessProbe"]["httpGet"]
    assert probe["path"] == "/metrics" and probe["port"] in ("metrics", port)
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/path"] == "/metrics"
    skips = " ".join(v for k, v in deployment["metadata"].get("annotations", {}).items() if k.startswith("checkov"))
    assert "CKV_K8S_8" not in skips, "the liveness probe is there: no skip of the probe check"
