"""infra/trigger/ (self-hosted Trigger.dev for the `trigger` provider), checked statically as the suite's own
compose file is: the Compose Specification schema, and the invariants a schema cannot see."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "infra" / "trigger"
COMPOSE = INFRA / "docker-compose.yml"
GENERATED = {"./registry/auth.htpasswd"}  # written by generate-env.sh, never committed
NO_HEALTHCHECK = {"trigger-s2": "distroless: no shell or client inside to probe with"}
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|ACCESS_KEY|_KEY)$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _pinned(image: str) -> bool:
    name, _, digest = image.partition("@")
    if digest:
        return bool(re.fullmatch(r"sha256:[0-9a-f]{64}", digest))
    _, sep, tag = name.rpartition(":")
    return bool(sep) and "/" not in tag and not tag.startswith("latest") and bool(re.search(r"\d", tag))


def test_the_compose_file_matches_the_compose_specification() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_is_in_the_trigger_profile_pinned_and_supervised(compose: dict) -> None:
    problems = []
    for name, svc in compose["services"].items():
        if svc.get("profiles") != ["trigger"]:
            problems.append(f"{name}: not (only) in the profile trigger")
        if not _pinned(svc.get("image", "")):
            problems.append(f"{name}: image {svc.get('image')} is not pinned")
        one_shot = svc.get("restart") == "no"
        if not one_shot and svc.get("restart") != "unless-stopped":
            problems.append(f"{name}: declare restart")
        if not one_shot and not (svc.get("healthcheck") or {}).get("test") and name not in NO_HEALTHCHECK:
            problems.append(f"{name}: a long-running service needs a healthcheck")
    assert problems == []
    assert {"trigger-webapp", "trigger-supervisor", "trigger-postgres", "trigger-redis", "trigger-clickhouse"} <= set(
        compose["services"]
    )
    assert compose["services"]["trigger-webapp"]["image"].startswith("ghcr.io/triggerdotdev/trigger.dev:v4.")
    assert compose["services"]["trigger-supervisor"]["image"].startswith("ghcr.io/triggerdotdev/supervisor:v4.")


def test_dependencies_networks_volumes_and_mounts_resolve(compose: dict) -> None:
    services, problems = compose["services"], []
    for name, svc in services.items():
        for target, spec in (svc.get("depends_on") or {}).items():
            condition = (spec or {}).get("condition")
            if target not in services:
                problems.append(f"{name}: depends_on {target}, which is not a service")
            elif condition == "service_healthy" and not services[target].get("healthcheck"):
                problems.append(f"{name}: waits for {target} to be healthy, but it has no healthcheck")
            elif condition == "service_completed_successfully" and services[target].get("restart") != "no":
                problems.append(f"{name}: waits for {target} to complete, but it is not a one-shot")
            elif condition not in {"service_healthy", "service_started", "service_completed_successfully"}:
                problems.append(f"{name}: depends_on {target} without a condition")
        problems += [f"{name}: network {n} undefined" for n in svc.get("networks", []) if n not in compose["networks"]]
        for mount in svc.get("volumes") or []:
            source = str(mount).split(":", 1)[0]
            if source.startswith("./"):
                if source not in GENERATED and not (INFRA / source).is_file():
                    problems.append(f"{name}: mounts {source}, which does not exist")
            elif not source.startswith("/") and source not in compose["volumes"]:
                problems.append(f"{name}: volume {source} undefined")
    used_networks = {n for svc in services.values() for n in svc.get("networks", [])}
    used_volumes = {str(m).split(":", 1)[0] for svc in services.values() for m in svc.get("volumes") or []}
    problems += [f"network {n} unused" for n in compose["networks"] if n not in used_networks]
    problems += [f"volume {v} unused" for v in compose["volumes"] if v not in used_volumes]
    assert problems == []
    # The supervisor attaches run containers to networks by their real names.
    assert {n: spec["name"] for n, spec in compose["networks"].items()} == {n: n for n in compose["networks"]}


def test_no_secret_is_written_in_the_file_and_published_ports_bind_to_the_configured_address(compose: dict) -> None:
    problems = []
    for name, svc in compose["services"].items():
        for key, value in _environment(svc).items():
            if SECRET_NAME.search(key) and not value.startswith("file:///"):
                problems.append(f"{name}: {key} is given in the file; it belongs in .env (env_file)")
        for port in svc.get("ports") or []:
            if not str(port).startswith("${TRIGGER_PUBLISH_IP:-127.0.0.1}:"):
                problems.append(f"{name}: port {port} is not bound to TRIGGER_PUBLISH_IP")
    text = COMPOSE.read_text(encoding="utf-8")
    assert not re.search(r"://[^\s/:@${}]+:[^\s/@${}]+@", text), "a URL with a password in docker-compose.yml"
    assert problems == []
    published = {name for name, svc in compose["services"].items() if svc.get("ports")}
    assert published == {"trigger-webapp", "trigger-registry"}


def test_every_interpolated_variable_is_documented_in_the_env_example() -> None:
    used = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text(encoding="utf-8")))
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (INFRA / ".env.example").read_text(), re.M))
    assert used and used <= documented


def test_it_can_be_included_into_the_suites_compose_file_without_a_clash(compose: dict) -> None:
    suite = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    for kind in ("services", "volumes", "networks"):
        assert not set(compose.get(kind) or {}) & set(suite.get(kind) or {}), kind
    assert "name" not in compose  # an included file takes the including project's name


def test_generate_env_fills_every_secret_and_url_and_keeps_them_on_a_rerun(tmp_path: Path) -> None:
    for name in ("generate-env.sh", ".env.example"):
        shutil.copy(INFRA / name, tmp_path / name)
    run = subprocess.run(["sh", str(tmp_path / "generate-env.sh")], capture_output=True, text=True, timeout=120)
    env_text = (tmp_path / ".env").read_text()
    values = dict(line.split("=", 1) for line in env_text.splitlines() if line and not line.startswith("#"))
    assert [k for k, v in values.items() if not v or "<" in v] == []
    assert len(values["ENCRYPTION_KEY"]) == 32
    assert values["DATABASE_URL"].startswith(f"postgresql://postgres:{values['POSTGRES_PASSWORD']}@trigger-postgres:")
    assert f"default:{values['CLICKHOUSE_PASSWORD']}@" in values["CLICKHOUSE_URL"]
    assert values["MINIO_ROOT_PASSWORD"] == values["OBJECT_STORE_SECRET_ACCESS_KEY"]
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0
    htpasswd = tmp_path / "registry" / "auth.htpasswd"
    if run.returncode == 0:
        assert htpasswd.read_text().startswith(f"{values['DOCKER_REGISTRY_USERNAME']}:$2")
    else:  # no htpasswd, bcrypt or Docker engine on this machine: said plainly, nothing half written
        assert "registry/auth.htpasswd needs htpasswd" in run.stderr or "docker" in run.stderr.lower()
        assert not htpasswd.exists() and not (tmp_path / "registry" / "auth.htpasswd.tmp").exists()
    subprocess.run(["sh", str(tmp_path / "generate-env.sh")], capture_output=True, timeout=120)
    assert (tmp_path / ".env").read_text() == env_text
    ignored = subprocess.run(
        ["git", "check-ignore", "infra/trigger/.env", "infra/trigger/registry/auth.htpasswd"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ignored.stdout.split() == ["infra/trigger/.env", "infra/trigger/registry/auth.htpasswd"]
