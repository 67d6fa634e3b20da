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
def test_image_probes_and_serves_the_port_it_exposes(root, folder, compose):
    # The numbers are the catalogue's, written by make generate (tests/static/test_catalogue.py); here the
    # parts that read them agree: the image's HEALTHCHECK reads the PORT it sets and exposes, compose probes
    # the PORT it gives, and gunicorn binds the default the generated block sets.
    text = (root / folder / "Dockerfile").read_text(encoding="utf-8")
    runtime = rules.stages(text)[-1]
    env = " ".join(args for kw, args in runtime if kw == "ENV").split()
    assert f"PORT={rules.dockerfile_port(text)}" in env
    healthcheck = next(args for kw, args in runtime if kw == "HEALTHCHECK")
    assert "/healthz" in healthcheck and "PORT" in healthcheck and not re.search(r":\d+/healthz", healthcheck)
    service = compose["services"][folder]
    assert f":{service['environment']['PORT']}/healthz" in " ".join(service["healthcheck"]["test"])
    gunicorn_conf = (root / folder / "gunicorn.conf.py").read_text(encoding="utf-8")
    assert "default_port=DEFAULT_PORT" in gunicorn_conf and "DEFAULT_PORT = " in gunicorn_conf


def test_a_healthcheck_on_a_fixed_port_is_caught():
    healthcheck = 'CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8001/healthz"]'
    assert re.search(r":\d+/healthz", healthcheck)


def test_migrations_image_runs_suite_db(root):
    text = (root / "db" / "Dockerfile").read_text(encoding="utf-8")
    assert rules.check_dockerfile(text, "suite-db", service=False) == []
    assert ("ENTRYPOINT", '["suite-db"]') in rules.stages(text)[-1]


def test_automation_image_brings_chromium_for_playwright(root):
    text = (root / "automation-service" / "Dockerfile").read_text(encoding="utf-8")
    runtime = rules.stages(text)[-1]
    assert "chromium-headless-shell" in dict(runtime)["RUN"]
    assert "CHROMIUM_PATH=/usr/lib/chromium/chromium-headless-shell" in " ".join(a for k, a in runtime if k == "ENV")


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
        ("--no-editable ", ""),  # links into /src, which the runtime stage does not have
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


# Locked distributions an Alpine image builds from source (no musl wheel), and the builder ENV that makes the
# outcome independent of whether a compiler happens to be in the image.
MUSL_SOURCE_BUILDS = {"pymongo": "NO_EXT=1"}


# The environment of the images' python (CPython 3.12 on Linux x86_64), for the lock's dependency markers.
_IMAGE_MARKERS = {
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "python_full_version": "3.12.14",
    "extra": "",
}


def _in_the_images(marker: str | None) -> bool:
    from packaging.markers import Marker

    return marker is None or Marker(marker).evaluate(_IMAGE_MARKERS)


def _locked_closure(lock: dict, root_package: str) -> set[str]:
    """`root_package` and what it requires in uv.lock, extras followed (psycopg[binary] -> psycopg-binary)."""
    packages = {p["name"]: p for p in lock["package"]}
    seen, todo = set(), [(root_package, ())]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen or name not in packages:
            continue
        seen.add((name, extras))
        package = packages[name]
        deps = list(package.get("dependencies", []))
        for extra in extras:
            deps += package.get("optional-dependencies", {}).get(extra, [])
        todo += [(d["name"], tuple(d.get("extra", []))) for d in deps if _in_the_images(d.get("marker"))]
    return {name for name, _ in seen}


def _has_musl_wheel(package: dict) -> bool:
    names = [w["url"].rsplit("/", 1)[-1] for w in package.get("wheels", [])]
    return any(n.endswith("-none-any.whl") for n in names) or any(
        "musllinux" in n and "x86_64" in n and ("-cp312-" in n or "-abi3-" in n) for n in names
    )


def _without_musl_wheel(lock: dict, package_name: str) -> set[str]:
    packages = {p["name"]: p for p in lock["package"]}
    return {
        name
        for name in _locked_closure(lock, package_name)
        if "editable" not in packages[name]["source"]
        and "virtual" not in packages[name]["source"]
        and not _has_musl_wheel(packages[name])
    }


@pytest.mark.parametrize("folder", [*sorted(rules.SERVICES), "db"])
def test_alpine_images_build_no_dependency_by_chance(root, folder):
    import tomllib

    text = (root / folder / "Dockerfile").read_text(encoding="utf-8")
    stages = rules.stages(text)
    if "alpine" not in stages[0][0][1]:
        pytest.skip(f"{folder}'s image is not Alpine")
    lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    source_builds = _without_musl_wheel(lock, _package(root, folder))
    assert source_builds <= set(MUSL_SOURCE_BUILDS), "no musl wheel: decide how the image builds these"
    builder_env = " ".join(args for kw, args in stages[0] if kw == "ENV")
    for name in source_builds:
        setting = MUSL_SOURCE_BUILDS[name]
        assert setting in builder_env.split(), f"{folder}: the builder must set {setting} for {name}"


def test_the_musl_wheel_rule_tells_wheels_apart():
    def pkg(*wheels):
        return {"wheels": [{"url": f"https://x/{w}"} for w in wheels]}

    assert _has_musl_wheel(pkg("a-1-py3-none-any.whl"))
    assert _has_musl_wheel(pkg("b-1-cp312-cp312-musllinux_1_2_x86_64.whl"))
    assert _has_musl_wheel(pkg("c-1-cp39-abi3-musllinux_1_1_x86_64.whl"))
    assert not _has_musl_wheel(pkg("pymongo-4.20.0-cp312-cp312-manylinux2014_x86_64.whl"))
    assert not _has_musl_wheel(pkg("d-1-cp312-cp312-musllinux_1_2_aarch64.whl"))


def test_the_locked_closure_follows_dependencies_and_extras(root):
    import tomllib

    lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    migrations = _locked_closure(lock, "suite-db")
    assert {"jobs", "alembic", "psycopg", "psycopg-binary", "tenacity"} <= migrations  # psycopg[binary]
    assert "pymongo" in _locked_closure(lock, "audit-worker") and "pymongo" not in migrations
    assert _without_musl_wheel(lock, "audit-worker") == {"pymongo"}
