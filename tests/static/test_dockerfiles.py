"""Every service image follows the suite's pattern: multi-stage, pinned bases, uv from the lock, numeric
non-root user, HEALTHCHECK on /healthz, gunicorn; and the rule is shown to catch a broken Dockerfile."""

from __future__ import annotations

import re

import pytest
import static_rules as rules
import yaml


def _package(root, folder: str) -> str:
    import tomllib

    return tomllib.loads((root / folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]


@pytest.mark.parametrize("folder", sorted(rules.SERVICES))
def test_service_dockerfile_follows_the_pattern(root, folder):
    text = (root / folder / "Dockerfile").read_text(encoding="utf-8")
    assert rules.check_dockerfile(text, _package(root, folder)) == []


@pytest.mark.parametrize("folder", sorted(rules.SERVICES))
def test_image_port_and_healthcheck_match_the_service(root, folder, compose):
    text = (root / folder / "Dockerfile").read_text(encoding="utf-8")
    port = rules.SERVICES[folder]
    assert rules.dockerfile_port(text) == port
    healthcheck = next(args for kw, args in rules.stages(text)[-1] if kw == "HEALTHCHECK")
    assert f"127.0.0.1:{port}/healthz" in healthcheck or "PORT" in healthcheck
    assert f":{port}/healthz" in " ".join(compose["services"][folder]["healthcheck"]["test"])
    gunicorn_conf = (root / folder / "gunicorn.conf.py").read_text(encoding="utf-8")
    assert f"default_port={port}" in gunicorn_conf


def test_migrations_image_runs_suite_db(root):
    text = (root / "db" / "Dockerfile").read_text(encoding="utf-8")
    assert rules.check_dockerfile(text, "suite-db", service=False) == []
    assert ("ENTRYPOINT", '["suite-db"]') in rules.stages(text)[-1]


def test_automation_image_brings_chromium_for_playwright(root):
    text = (root / "automation-service" / "Dockerfile").read_text(encoding="utf-8")
    runtime = dict(rules.stages(text)[-1])
    assert "chromium" in runtime["RUN"]
    assert "CHROMIUM_PATH=/usr/bin/chromium" in runtime["ENV"]


def test_dockerignore_keeps_secrets_and_local_state_out(root):
    lines = set((root / ".dockerignore").read_text(encoding="utf-8").splitlines())
    assert {".git", "secrets", ".env", "**/.venv*", ".local", "**/tests"} <= lines


def test_compose_builds_each_service_from_its_dockerfile(compose):
    for folder in rules.SERVICES:
        assert compose["services"][folder]["build"] == {"context": ".", "dockerfile": f"{folder}/Dockerfile"}


def test_hadolint_ignores_carry_reasons(root):
    config = (root / ".hadolint.yaml").read_text(encoding="utf-8")
    ignored = yaml.safe_load(config).get("ignored", [])
    for rule in ignored:
        before = config[: config.index(f"- {rule}")].rstrip().splitlines()[-1]
        assert before.strip().startswith("#"), f"{rule} is ignored without a reason above it"


GOOD = """\
FROM python:3.12.14-alpine3.24 AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/uv
RUN uv sync --frozen --no-dev --no-editable --package fleet-api
FROM python:3.12.14-alpine3.24
COPY --from=builder /opt/venv /opt/venv
USER 10001:10001
HEALTHCHECK CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8001/healthz"]
ENTRYPOINT ["gunicorn"]
"""


@pytest.mark.parametrize(
    "old, new",
    [
        ("FROM python:3.12.14-alpine3.24 AS builder\n", ""),  # single stage
        ("FROM python:3.12.14-alpine3.24\n", "FROM python:3.13.15-alpine\n"),  # runtime base differs
        ("FROM python:3.12.14-alpine3.24\n", "FROM python\n"),  # untagged
        ("FROM python:3.12.14-alpine3.24\n", "FROM python:latest\n"),
        ("USER 10001:10001\n", ""),  # root
        ("USER 10001:10001\n", "USER app\n"),  # not numeric
        ("USER 10001:10001\n", "USER 0\n"),
        ("HEALTHCHECK CMD", "# HEALTHCHECK CMD"),
        ('ENTRYPOINT ["gunicorn"]', 'ENTRYPOINT ["flask", "run"]'),
        ("--frozen ", ""),
        ("--package fleet-api", "--package gpt-service"),
        ("COPY --from=builder /opt/venv /opt/venv\n", "COPY . /srv\n"),
        ("uv:0.13.9", "uv:latest"),
    ],
)
def test_the_dockerfile_rule_catches_a_broken_file(old, new):
    assert rules.check_dockerfile(GOOD, "fleet-api") == []
    broken = GOOD.replace(old, new, 1)
    assert broken != GOOD
    assert rules.check_dockerfile(broken, "fleet-api") != []


def _closure(dist: str) -> set[str]:
    """`dist` and every distribution it requires, transitively (names normalised)."""
    import importlib.metadata as md

    from packaging.requirements import Requirement

    seen, todo = set(), [dist]
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            requirements = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        todo += [Requirement(r).name for r in requirements if "extra ==" not in r]
    return seen


def test_migrations_image_holds_every_module_the_migrations_import(root):
    # The migrations image installs suite-db and its dependencies only; an import of anything else
    # works in the development venv (which has every package) and fails in the container.
    import ast
    import importlib.metadata as md
    import sys

    modules = set()
    for path in (root / "db" / "migrations").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    installed = _closure("suite-db")
    owners = md.packages_distributions()
    missing = {
        module: owners[module]
        for module in modules - set(sys.stdlib_module_names) - {"__future__"}
        if not {re.sub(r"[-_.]+", "-", d).lower() for d in owners.get(module, [])} & installed
    }
    assert missing == {}, "add these to db/pyproject.toml dependencies"
