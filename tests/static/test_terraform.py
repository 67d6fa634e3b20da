"""infra/terraform, parsed with python-hcl2 (no Terraform binary needed): the table dispatch-service uses,
the logs bucket's protections, LocalStack through variables, and the three workspaces."""

from __future__ import annotations

import hcl2
import pytest
import static_rules as rules

OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
WORKSPACES = {"dev", "test", "prod"}


@pytest.fixture(scope="module")
def tf(root) -> dict:
    """Every block of every .tf file, merged by block type."""
    return rules.terraform_blocks(root / "infra" / "terraform")


def _variables(tf: dict) -> dict:
    return {name: spec for block in tf["variable"] for name, spec in block.items()}


def terraform_table(tf: dict) -> dict:
    """The Terraform table in the shape of DynamoDB's DescribeTable, for comparison."""
    table = rules.terraform_resource(tf, "aws_dynamodb_table", "delivery_assignments")
    keys = [{"AttributeName": table["hash_key"], "KeyType": "HASH"}]
    if table.get("range_key"):
        keys.append({"AttributeName": table["range_key"], "KeyType": "RANGE"})
    return {
        "keys": keys,
        "attributes": {a["name"]: a["type"] for a in table["attribute"]},
        "indexes": {
            g["name"]: {
                "keys": [{"AttributeName": g["hash_key"], "KeyType": "HASH"}]
                + ([{"AttributeName": g["range_key"], "KeyType": "RANGE"}] if g.get("range_key") else []),
                "projection": g["projection_type"],
            }
            for g in table.get("global_secondary_index", [])
        },
        "billing": table["billing_mode"],
        "pitr": table["point_in_time_recovery"][0]["enabled"] is True,
    }


def described_table(description: dict, pitr: bool) -> dict:
    return {
        "keys": description["KeySchema"],
        "attributes": {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]},
        "indexes": {
            g["IndexName"]: {"keys": g["KeySchema"], "projection": g["Projection"]["ProjectionType"]}
            for g in description.get("GlobalSecondaryIndexes", [])
        },
        "billing": description.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        "pitr": pitr,
    }


def test_assignments_table_has_the_keys_dispatch_uses(tf):
    table = rules.terraform_resource(tf, "aws_dynamodb_table", "delivery_assignments")
    assert (table["hash_key"], table["range_key"]) == ("driver_id", "package_id")
    assert terraform_table(tf)["indexes"]["by_date_status"]["keys"][0]["AttributeName"] == "assignment_date"
    assert table["point_in_time_recovery"][0]["enabled"] is True
    assert table["server_side_encryption"][0]["enabled"] is True


@pytest.mark.integration
def test_the_table_the_local_stack_creates_is_the_terraform_one(tf, root, moto_url, monkeypatch):
    """scripts/provision_aws.py (the local stack's provisioning, from the service's own table definition) on
    moto's real server, read back with DescribeTable, against infra/terraform/dynamodb.tf."""
    import subprocess
    import sys
    import uuid

    import boto3

    name = f"tf-compare-{uuid.uuid4().hex[:8]}"
    env = {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ASSIGNMENTS_TABLE": name,
        "LOGS_BUCKET": name,
    }
    subprocess.run([sys.executable, str(root / "scripts" / "provision_aws.py")], check=True, env={**env, "PATH": ""})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("dynamodb", endpoint_url=moto_url)
    description = client.describe_table(TableName=name)["Table"]
    backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert described_table(description, pitr) == terraform_table(tf)


def test_the_comparison_notices_a_difference(tf):
    changed = terraform_table(tf)
    changed["indexes"]["by_date_status"]["keys"][1]["AttributeName"] = "driver_id"
    assert changed != terraform_table(tf)


def test_names_agree_with_dispatch_settings(tf):
    settings = rules.service_settings()["dispatch-service"].model_fields
    variables = _variables(tf)
    assert variables["assignments_table_name"]["default"] == settings["assignments_table"].default
    assert variables["logs_bucket_name"]["default"] == settings["logs_bucket"].default


def test_logs_bucket_is_private_encrypted_and_versioned(tf):
    access = rules.terraform_resource(tf, "aws_s3_bucket_public_access_block", "operational_logs")
    assert all(
        access[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    versioning = rules.terraform_resource(tf, "aws_s3_bucket_versioning", "operational_logs")
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"
    sse = rules.terraform_resource(tf, "aws_s3_bucket_server_side_encryption_configuration", "operational_logs")
    assert sse["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"]
    ownership = rules.terraform_resource(tf, "aws_s3_bucket_ownership_controls", "operational_logs")
    assert ownership["rule"][0]["object_ownership"] == "BucketOwnerEnforced"


def test_provider_reaches_localstack_through_variables(tf):
    (provider,) = [block["aws"] for block in tf["provider"]]
    endpoints = provider["endpoints"][0]
    assert {endpoints[s] for s in ("dynamodb", "s3", "sts")} == {"${var.aws_endpoint_url}"}
    assert provider["s3_use_path_style"] == "${local.emulated}"
    assert _variables(tf)["aws_endpoint_url"]["default"] is None  # real AWS unless told otherwise


def test_every_workspace_has_settings_and_a_tfvars_file(tf, root):
    assert set(rules.terraform_locals(tf)["environments"]) == WORKSPACES
    tfvars = {p.stem for p in (root / "infra" / "terraform" / "environments").glob("*.tfvars")}
    assert tfvars == WORKSPACES
    declared = set(_variables(tf))
    for name in WORKSPACES:
        with (root / "infra" / "terraform" / "environments" / f"{name}.tfvars").open(encoding="utf-8") as handle:
            values = hcl2.load(handle, serialization_options=OPTIONS)
        assert set(values) <= declared, f"{name}.tfvars sets undeclared variables"


def test_an_unknown_workspace_is_refused(tf):
    guard = rules.terraform_resource(tf, "terraform_data", "workspace_guard")
    condition = guard["lifecycle"][0]["precondition"][0]["condition"]
    assert "local.environment != null" in condition
    assert "lookup(local.environments, terraform.workspace, null)" in rules.terraform_locals(tf)["environment"]


def test_compose_applies_the_dev_workspace(compose):
    command = compose["services"]["terraform"]["command"][0]
    assert "workspace select -or-create dev" in command
    assert "-var-file=environments/dev.tfvars" in command
    assert compose["services"]["terraform"]["environment"]["TF_VAR_aws_endpoint_url"] == "http://localstack:4566"
