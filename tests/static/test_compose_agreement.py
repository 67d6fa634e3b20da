"""docker-compose.yml agrees with the code it runs and with infra/terraform: what a container is given is
read, what it needs is given, what it waits for it uses, and LocalStack runs what Terraform asks of it.
Each rule is also shown to catch the defect it was written for."""

from __future__ import annotations

import copy

import pytest
import static_rules as rules


@pytest.fixture(scope="module")
def tf() -> dict:
    return rules.terraform_blocks()


@pytest.fixture
def settings(compose) -> dict[str, list[type]]:
    return rules.container_settings(compose)


def test_every_file_and_secret_given_to_a_container_is_read(compose, settings):
    assert rules.check_files_and_secrets_are_read(compose, settings) == []


def test_every_required_setting_is_given(compose, settings):
    assert rules.check_required_settings_given(compose, settings) == []


def test_every_dependency_is_used(compose, settings):
    assert rules.check_dependencies_are_used(compose, settings) == []


def test_a_host_is_told_from_a_scheme():
    assert rules._names_host("redis://redis:6379/0", "redis") and rules._names_host("mailpit", "mailpit")
    assert rules._names_host("pubsub-emulator:8085", "pubsub-emulator")
    assert not rules._names_host("redis://cache:6379/1", "redis")


def test_one_shots_have_their_healthcheck_disabled(compose):
    assert rules.check_one_shots_have_no_healthcheck(compose) == []


def test_localstack_runs_every_service_terraform_needs(compose, tf):
    assert rules.check_localstack_covers_terraform(compose, tf) == []
    # What infra/terraform holds today: a table, an encrypted one (kms), and the logs bucket.
    assert {"dynamodb", "s3", "kms"} <= set(rules.localstack_services_needed(tf))


def test_postgres_counts_as_healthy_only_once_it_accepts_tcp(compose):
    # During first-boot initialisation Postgres listens on its Unix socket only; the migrations use TCP.
    test = " ".join(compose["services"]["postgres"]["healthcheck"]["test"])
    assert "pg_isready -h 127.0.0.1 " in test
    assert compose["services"]["migrations"]["environment"]["SUITE_DB_WAIT_SECONDS"]


def test_env_example_does_not_change_compose_defaults(compose_text, root):
    env_example = (root / ".env.example").read_text(encoding="utf-8")
    assert rules.check_env_example_matches_compose(compose_text, env_example) == []


def test_our_containers_each_have_their_readers(compose, settings):
    # A container of our images with no settings class is a gap in the table, not a pass.
    assert set(settings) == {n for n, s in compose["services"].items() if s.get("build")}
    assert all(settings[name] for name in set(settings) - set(rules.CONTAINER_SETTINGS))
    assert rules.COMMAND_READS["migrations"] >= {"DATABASE_URL"}


# --- each rule fails on the defect it was written for ---------------------------------------------------


def _broken(compose: dict, how: str) -> dict:
    broken = copy.deepcopy(compose)
    services = broken["services"]
    if how == "a _FILE no settings field reads":
        services["bakery-service"]["environment"]["SMTP_PASSWORDS_FILE"] = "/run/secrets/smtp_password"
    elif how == "a secret nothing reads":
        services["gpt-service"]["secrets"].append("github_token")
    elif how == "a variable given in place of the _FILE one":
        services["gpt-service"]["environment"].pop("OPENAI_API_KEY_FILE")
    elif how == "a required setting not given":
        services["fleet-api"]["environment"].pop("DATABASE_URL_FILE")
    elif how == "migrations without DATABASE_URL":
        services["migrations"]["entrypoint"] = ["suite-db", "upgrade"]
    elif how == "REDIS_URL given to a service that reads none":
        services["audit-worker"]["environment"]["REDIS_URL"] = "redis://redis:6379/0"
        services["audit-worker"]["depends_on"]["redis"] = {"condition": "service_healthy"}
    elif how == "a dependency without a proof":
        services["fleet-relay"]["depends_on"]["fleet-api"] = {"condition": "service_healthy"}
    elif how == "a proof that names another host":
        services["gpt-service"]["environment"]["REDIS_URL"] = "redis://cache:6379/1"
    elif how == "a one-shot with the image's healthcheck":
        del services["pubsub-provision"]["healthcheck"]
    elif how == "localstack without kms":
        services["localstack"]["environment"]["SERVICES"] = "dynamodb,s3"
    elif how == "localstack without s3":
        services["localstack"]["environment"]["SERVICES"] = "dynamodb,kms"
    return broken


@pytest.mark.parametrize(
    "how",
    [
        "a _FILE no settings field reads",
        "a secret nothing reads",
        "a variable given in place of the _FILE one",
        "a required setting not given",
        "migrations without DATABASE_URL",
        "REDIS_URL given to a service that reads none",
        "a dependency without a proof",
        "a proof that names another host",
        "a one-shot with the image's healthcheck",
        "localstack without kms",
        "localstack without s3",
    ],
)
def test_each_agreement_rule_catches_a_broken_copy(compose, tf, how):
    def problems(candidate: dict) -> set[str]:
        settings = rules.container_settings(candidate)
        return {
            *rules.check_files_and_secrets_are_read(candidate, settings),
            *rules.check_required_settings_given(candidate, settings),
            *rules.check_dependencies_are_used(candidate, settings),
            *rules.check_one_shots_have_no_healthcheck(candidate),
            *rules.check_localstack_covers_terraform(candidate, tf),
        }

    # A new problem, not one the real file may already have.
    assert problems(_broken(compose, how)) - problems(compose)


def test_sse_without_a_key_needs_kms():
    table = {"resource": [{"aws_dynamodb_table": {"t": {"server_side_encryption": [{"enabled": True}]}}}]}
    where = "aws_dynamodb_table.t"
    assert rules.localstack_services_needed(table) == {"dynamodb": where, "kms": where}
    plain = {"resource": [{"aws_dynamodb_table": {"t": {"name": "x"}}}]}
    assert rules.localstack_services_needed(plain) == {"dynamodb": "aws_dynamodb_table.t"}
    key = {"resource": [{"aws_kms_key": {"k": {}}}, {"aws_s3_bucket": {"b": {}}}]}
    assert set(rules.localstack_services_needed(key)) == {"kms", "s3"}


def test_an_env_example_value_that_differs_from_compose_is_caught():
    text = "STORAGE_BUCKET: ${STORAGE_BUCKET:-automation-artifacts}\n"
    assert rules.check_env_example_matches_compose(text, "STORAGE_BUCKET=suite-files\n") != []
    assert rules.check_env_example_matches_compose(text, "STORAGE_BUCKET=automation-artifacts\n") == []
    assert rules.check_env_example_matches_compose(text, "# STORAGE_BUCKET=suite-files\n") == []
