"""infra/terraform/aws (the suite on AWS), parsed with python-hcl2: every service and worker on ECS
Fargate in private subnets behind the load balancer, secrets from Secrets Manager only, the database and
Redis private and encrypted, logs in CloudWatch, the bakery's batch on a 06:00 UTC schedule, and the three
workspaces. checkov checks the rest (scripts/static_checks.sh)."""

from __future__ import annotations

import hcl2
import pytest
import static_rules as rules

OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


@pytest.fixture(scope="module")
def tf(root) -> dict:
    return rules.terraform_blocks(root / "infra" / "terraform" / "aws")


def test_every_service_and_worker_runs_on_fargate(tf):
    local = rules.terraform_locals(tf)
    assert set(local["services"]) == set(rules.SERVICES)
    # Each service's port is the catalogue's (catalogue.tf, written by make generate).
    assert {name: spec["port"] for name, spec in local["services"].items()} == {
        name: f'${{local.service_ports["{name}"]}}' for name in rules.SERVICES
    }
    assert local["service_ports"] == rules.SERVICES
    assert set(local["workers"]) == {"fleet-relay", "audit-consumer"}
    service = rules.terraform_resource(tf, "aws_ecs_service", "service")
    assert service["for_each"] == "${local.services}" and service["launch_type"] == "FARGATE"
    (network,) = service["network_configuration"]
    assert network["assign_public_ip"] is False and "aws_subnet.private" in network["subnets"]
    worker = rules.terraform_resource(tf, "aws_ecs_service", "worker")
    assert worker["for_each"] == "${local.workers}"
    assert worker["network_configuration"][0]["assign_public_ip"] is False
    task = rules.terraform_resource(tf, "aws_ecs_task_definition", "process")
    assert task["requires_compatibilities"] == ["FARGATE"] and task["network_mode"] == "awsvpc"


def test_containers_are_read_only_non_root_and_log_to_cloudwatch(tf):
    base = rules.terraform_locals(tf)["container_base"]
    assert base["readonlyRootFilesystem"] is True and base["user"] == "10001:10001"
    task = rules.terraform_resource(tf, "aws_ecs_task_definition", "process")
    definition = task["container_definitions"]
    assert "awslogs" in definition and "aws_cloudwatch_log_group.process" in definition
    assert "aws_secretsmanager_secret.suite" in definition  # secrets by reference, never by value
    groups = rules.terraform_resource(tf, "aws_cloudwatch_log_group", "process")
    assert groups["kms_key_id"] == "${aws_kms_key.main.arn}"


def test_secrets_live_in_secrets_manager_without_values(tf):
    secret = rules.terraform_resource(tf, "aws_secretsmanager_secret", "suite")
    assert secret["for_each"] == "${local.secret_names}" and secret["kms_key_id"] == "${aws_kms_key.main.arn}"
    versions = [b for b in tf["resource"] if "aws_secretsmanager_secret_version" in b]
    # The one value Terraform writes is derived from a generated token, never a literal.
    for block in versions:
        for spec in block["aws_secretsmanager_secret_version"].values():
            assert "${random_password." in spec["secret_string"]
    for name in ("jwt_secret", "database_url", "openai_api_key", "jira_api_token", "github_token"):
        assert any(name in spec["secrets"] for spec in rules.terraform_locals(tf)["services"].values()), name


def test_database_and_cache_are_private_and_encrypted(tf):
    db = rules.terraform_resource(tf, "aws_db_instance", "postgres")
    assert db["publicly_accessible"] is False and db["storage_encrypted"] is True
    assert db["manage_master_user_password"] is True and "password" not in db
    assert db["engine"] == "postgres"
    redis = rules.terraform_resource(tf, "aws_elasticache_replication_group", "redis")
    assert redis["at_rest_encryption_enabled"] is True and redis["transit_encryption_enabled"] is True
    subnet_groups = [
        rules.terraform_resource(tf, "aws_db_subnet_group", "main"),
        rules.terraform_resource(tf, "aws_elasticache_subnet_group", "main"),
    ]
    assert all("aws_subnet.private" in group["subnet_ids"] for group in subnet_groups)


def test_public_entry_is_https_behind_waf(tf):
    https = rules.terraform_resource(tf, "aws_lb_listener", "https")
    assert https["protocol"] == "HTTPS" and https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13")
    redirect = rules.terraform_resource(tf, "aws_lb_listener", "http_redirect")
    assert redirect["default_action"][0]["type"] == "redirect"
    assert rules.terraform_resource(tf, "aws_wafv2_web_acl_association", "alb")["resource_arn"] == "${aws_lb.main.arn}"
    rule = rules.terraform_resource(tf, "aws_lb_listener_rule", "service")
    assert rule["for_each"] == "${local.services}"


def test_the_bakery_batch_runs_daily_at_six_utc(tf):
    schedule = rules.terraform_resource(tf, "aws_scheduler_schedule", "bakery_batch")
    assert schedule["schedule_expression"] == "cron(0 6 * * ? *)"
    assert schedule["schedule_expression_timezone"] == "UTC"


def test_three_workspaces_with_their_variables(tf, root):
    environments = rules.terraform_locals(tf)["environments"]
    assert set(environments) == {"dev", "test", "prod"}
    assert environments["prod"]["deletion_protection"] is True and environments["prod"]["db_multi_az"] is True
    folder = root / "infra" / "terraform" / "aws" / "environments"
    assert {p.stem for p in folder.glob("*.tfvars")} == {"dev", "test", "prod"}
    required = {name for block in tf["variable"] for name, spec in block.items() if "default" not in spec}
    for path in folder.glob("*.tfvars"):
        with path.open(encoding="utf-8") as handle:
            given = set(hcl2.load(handle, serialization_options=OPTIONS))
        assert required <= given, f"{path.name} lacks {sorted(required - given)}"
