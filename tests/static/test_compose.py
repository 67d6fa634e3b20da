"""docker-compose.yml keeps the suite's invariants (the Compose schema itself is checked by
scripts/static_checks.sh); each rule is also shown to catch a broken copy."""

from __future__ import annotations

import copy

import pytest
import static_rules as rules
import yaml


def _secret_values(root) -> list[str]:
    return [p.read_text(encoding="utf-8").strip() for p in (root / "secrets").glob("*.txt")]


def test_the_compose_file_keeps_every_invariant(compose, compose_text, env_example_names, root):
    assert rules.compose_problems(compose, compose_text, env_example_names, _secret_values(root)) == []


class _UniqueKeyLoader(yaml.SafeLoader):
    """Refuses a mapping that repeats a key: PyYAML keeps the last, Compose refuses the file."""

    def construct_mapping(self, node, deep=False):
        keys = [key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode)]
        repeated = {k for k in keys if keys.count(k) > 1}
        if repeated:
            raise yaml.constructor.ConstructorError(None, None, f"repeated keys {repeated}", node.start_mark)
        return super().construct_mapping(node, deep)


def test_no_mapping_repeats_a_key(compose_text):
    yaml.load(compose_text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("a:\n  <<: {x: 1}\n  <<: {y: 2}\n", Loader=_UniqueKeyLoader)  # noqa: S506


def test_every_required_setting_of_a_service_is_given_in_compose(compose):
    problems = []
    for folder, settings_cls in rules.service_settings().items():
        env = rules.environment(compose["services"][folder])
        for name, required in rules.setting_names(settings_cls).items():
            if required and name not in env and f"{name}_FILE" not in env:
                problems.append(f"{folder}: required setting {name} (or {name}_FILE) is not set")
    assert problems == []


def test_application_services_run_hardened(compose):
    for name in rules.SERVICES:
        svc = compose["services"][name]
        assert svc.get("read_only") is True, name
        assert "ALL" in svc.get("cap_drop", []), name
        assert "no-new-privileges:true" in svc.get("security_opt", []), name


def test_one_shots_exit_and_run_what_they_should(compose):
    services = compose["services"]
    assert services["migrations"]["entrypoint"][-1].endswith("suite-db upgrade")
    assert services["pubsub-provision"]["entrypoint"] == ["python", "-m", "jobs.provision"]
    assert services["pubsub-provision"]["image"] == services["audit-worker"]["image"]
    from audit_worker.domain.audit import EVENT_TYPES

    assert services["pubsub-provision"]["command"] == ["--types", ",".join(EVENT_TYPES)]
    assert "terraform apply" in services["terraform"]["command"][0]
    assert services["terraform"]["image"].startswith("hashicorp/terraform:")
    assert services["localstack"]["image"] == "localstack/localstack:4.14.0"
    for name in ("fleet-api", "automation-service", "bakery-service"):
        assert services[name]["depends_on"]["migrations"] == {"condition": "service_completed_successfully"}


def _break(compose: dict, how: str) -> dict:
    broken = copy.deepcopy(compose)
    services = broken["services"]
    if how == "no healthcheck":
        del services["redis"]["healthcheck"]
    elif how == "no restart":
        del services["mongo"]["restart"]
    elif how == "unknown dependency":
        services["fleet-api"]["depends_on"]["kafka"] = {"condition": "service_healthy"}
    elif how == "started condition":
        services["fleet-api"]["depends_on"]["redis"] = {"condition": "service_started"}
    elif how == "list depends_on":
        services["gpt-service"]["depends_on"] = ["redis"]
    elif how == "waits for a long-running service to complete":
        services["fleet-api"]["depends_on"]["redis"] = {"condition": "service_completed_successfully"}
    elif how == "undefined network":
        services["redis"]["networks"] = ["app", "backend"]
    elif how == "network not internal":
        broken["networks"]["app"] = {}
    elif how == "undefined volume":
        services["mongo"]["volumes"] = ["mongo-data:/data/db"]
    elif how == "service without the logs volume":
        services["gpt-service"]["volumes"] = []
    elif how == "undefined secret":
        services["gpt-service"]["secrets"].append("anthropic_api_key")
    elif how == "unused secret":
        broken["secrets"]["unused_token"] = {"file": "./secrets/unused_token.txt"}
    elif how == "secret file not mounted":
        services["gpt-service"]["environment"]["GITHUB_TOKEN_FILE"] = "/run/secrets/github_token"
    elif how == "latest tag":
        services["redis"]["image"] = "redis:latest"
    elif how == "untagged image":
        services["mongo"]["image"] = "mongo"
    elif how == "backing service publishes a port":
        services["postgres"]["ports"] = ["127.0.0.1:5432:5432"]
    elif how == "port on every interface":
        services["grafana"]["ports"] = ["3000:3000"]
    elif how == "literal password":
        services["postgres"]["environment"]["POSTGRES_PASSWORD"] = "hunter2hunter2"
    elif how == "service missing":
        del services["mailpit"]
        for svc in services.values():
            (svc.get("depends_on") or {}).pop("mailpit", None)
    return broken


@pytest.mark.parametrize(
    "how",
    [
        "no healthcheck",
        "no restart",
        "unknown dependency",
        "started condition",
        "list depends_on",
        "waits for a long-running service to complete",
        "undefined network",
        "network not internal",
        "undefined volume",
        "service without the logs volume",
        "undefined secret",
        "unused secret",
        "secret file not mounted",
        "latest tag",
        "untagged image",
        "backing service publishes a port",
        "port on every interface",
        "literal password",
        "service missing",
    ],
)
def test_each_rule_catches_a_broken_copy(compose, compose_text, env_example_names, how):
    assert rules.compose_problems(_break(compose, how), compose_text, env_example_names) != []


@pytest.mark.parametrize(
    "text",
    [
        "DATABASE_URL: postgresql+psycopg://suite:s3cretpass@postgres:5432/suite",
        "OPENAI_API_KEY_FILE: sk-proj-abcdefghijklmnopqrstuvwx",
        "x: AKIAABCDEFGHIJKLMNOP",
    ],
)
def test_secret_looking_text_is_caught(compose, text):
    assert rules.check_no_literal_secrets(compose, text) != []


def test_a_value_from_secrets_folder_is_caught(compose, compose_text):
    assert rules.check_no_literal_secrets(compose, compose_text + "\n# 0123456789abcdef\n", ["0123456789abcdef"]) != []


def test_an_undocumented_variable_is_caught(compose_text, env_example_names):
    assert rules.check_interpolations_documented(compose_text + "${NEW_KNOB:-1}", env_example_names) != []
