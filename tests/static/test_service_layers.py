"""The skeleton every service shares, read from the source's imports: each layer imports only what lies below it,
only create_app and the views read the wiring, no HTTP problem is raised outside the views, and no module name
stands on two layers (docs/development.md, "Working on the code")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "dispatch_service": ROOT / "dispatch-service/dispatch_service",
    "fleet_api": ROOT / "fleet-api/fleet_api",
    "gpt_service": ROOT / "gpt-service/gpt_service",
    "automation_service": ROOT / "automation-service/automation_service",
    "bakery_service": ROOT / "bakery-service/bakery_service",
    "audit_worker": ROOT / "audit-worker/audit_worker",
}
WEB = ("flask", "werkzeug")
# Libraries that do I/O: adapters' business, never the domain's or the views'.
IO = ("sqlalchemy", "psycopg", "redis", "requests", "boto3", "botocore", "pymongo", "playwright", "openai")
IO_PACKAGES = ("jobs", "storage")
LAYERS = ("api", "usecases", "domain", "adapters", "background")


def imports_of(path: Path, package_dir: Path, package: str) -> set[str]:
    """Every module a file imports, as an absolute name (``from ..x import y`` gives ``<package>.x`` and
    ``<package>.x.y``: y may be a module)."""
    parts = path.relative_to(package_dir).with_suffix("").parts
    # A package's __init__ is the package itself; a module's relative imports start from its package.
    here = ".".join((package, *parts[:-1]))
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def upper(package: str, package_dir: Path) -> tuple[str, ...]:
    """What sits above the use cases: the wiring, the views, the background parts, and any other module at the
    package's root that is neither metrics nor settings (a process's entry point such as audit's consumer)."""
    roots = {p.stem for p in package_dir.glob("*.py")} - {"__init__", "metrics", "settings"}
    return tuple(f"{package}.{name}" for name in sorted({"wiring", "api", "background", *roots}))


def rules(package: str, package_dir: Path) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """layer -> (forbidden imports, allowed exceptions)."""
    above = upper(package, package_dir)
    return {
        # Rules and models: no I/O, no web, nothing of the service but the domain.
        "domain": ((*WEB, *IO, *IO_PACKAGES, "servicekit", package), (f"{package}.domain", "servicekit.domain_errors")),
        # Use cases: no web, no wiring, refusals from servicekit.domain_errors only.
        # (The request id of the call under way is read from its context, to go with the work it starts.)
        "usecases": (
            (*WEB, *above, "servicekit"),
            ("servicekit.domain_errors", "servicekit.unit_of_work", "servicekit.logs.current_request_id"),
        ),
        # Adapters: the I/O, called from above, calling nothing above (their own measures go in metrics.py).
        "adapters": ((*WEB, *above, f"{package}.usecases"), ()),
        "metrics.py": ((*WEB, *above, f"{package}.usecases", f"{package}.adapters"), ()),
        # Background parts call use cases; the lifecycle starts them, views never do.
        "background": ((*WEB, *(a for a in above if a != f"{package}.background")), ()),
        # Views route to use cases: no SQL, no repositories, no adapters, no background parts.
        "api": ((*IO, f"{package}.adapters", f"{package}.background"), ()),
    }


def files(package_dir: Path, layer: str) -> list[Path]:
    target = package_dir / layer
    if target.is_dir():
        return sorted(target.rglob("*.py"))
    return [target] if target.is_file() else []


def offending(package: str, package_dir: Path, layer: str) -> dict[str, list[str]]:
    forbidden, allowed = rules(package, package_dir)[layer]
    found = {}
    for path in files(package_dir, layer):
        bad = sorted(
            name
            for name in imports_of(path, package_dir, package)
            # `from a.b import c` also yields a.b: allowed where a.b.c is.
            if within(name, forbidden)
            and not within(name, allowed)
            and not any(a.startswith(name + ".") for a in allowed)
        )
        if bad:
            found[str(path.relative_to(package_dir))] = bad
    return found


@pytest.mark.parametrize("package", SERVICES)
def test_every_service_has_the_skeletons_layers(package):
    package_dir = SERVICES[package]
    missing = [layer for layer in ("api", "usecases", "domain", "adapters") if not (package_dir / layer).is_dir()]
    missing += [name for name in ("wiring.py", "settings.py", "metrics.py") if not (package_dir / name).is_file()]
    assert missing == []


@pytest.mark.parametrize("layer", ["domain", "usecases", "adapters", "metrics.py", "background", "api"])
@pytest.mark.parametrize("package", SERVICES)
def test_each_layer_imports_only_what_lies_below_it(package, layer):
    assert offending(package, SERVICES[package], layer) == {}


@pytest.mark.parametrize("package", SERVICES)
def test_only_create_app_and_the_views_read_the_wiring(package):
    package_dir = SERVICES[package]
    readers = sorted(
        str(path.relative_to(package_dir))
        for path in package_dir.rglob("*.py")
        if any(within(name, (f"{package}.wiring",)) for name in imports_of(path, package_dir, package))
    )
    assert readers and all(reader == "__init__.py" or reader.startswith("api/") for reader in readers), readers


@pytest.mark.parametrize("package", SERVICES)
def test_no_http_problem_outside_the_views(package):
    """servicekit's HTTP errors (ApiProblem and the rest of servicekit.errors) belong to the edge; telling an
    outage from a bug (`dependency_unavailable`) is not HTTP."""
    package_dir = SERVICES[package]
    http = ("servicekit.ApiProblem", "servicekit.errors")
    allowed = ("servicekit.errors.dependency_unavailable",)
    raising = {}
    for path in package_dir.rglob("*.py"):
        if path.relative_to(package_dir).parts[0] == "api":
            continue
        names = imports_of(path, package_dir, package)
        bad = sorted(n for n in names if within(n, http) and not within(n, allowed) and n != "servicekit.errors")
        if "servicekit.errors" in names and not any(within(n, allowed) for n in names):
            bad.append("servicekit.errors")
        if bad:
            raising[str(path.relative_to(package_dir))] = bad
    assert raising == {}


@pytest.mark.parametrize("package", SERVICES)
def test_no_module_name_stands_on_two_layers(package):
    """A name says what a module is: api/loads.py beside usecases/read_loads.py, never a third loads.py."""
    package_dir = SERVICES[package]
    where: dict[str, set[str]] = {}
    for path in package_dir.rglob("*.py"):
        if path.name != "__init__.py":
            where.setdefault(path.stem, set()).add(str(path.parent.relative_to(package_dir)))
    assert {name: sorted(places) for name, places in where.items() if len(places) > 1} == {}


def test_the_checker_sees_an_arrow_that_runs_up_and_a_name_on_two_layers(tmp_path):
    """A use case reaching for the wiring and Flask, and a domain module doing I/O, are caught (the tests above
    would otherwise pass on an empty scan)."""
    bad = tmp_path / "sample_service"
    for layer in ("usecases", "domain", "api"):
        (bad / layer).mkdir(parents=True)
    (bad / "wiring.py").write_text("")
    (bad / "usecases" / "orders.py").write_text(
        "from ..wiring import deps\nfrom flask import g\nfrom servicekit.logs import current_request_id, configure\n"
    )
    (bad / "domain" / "rules.py").write_text("import requests\nfrom servicekit.domain_errors import Conflict\n")
    (bad / "api" / "orders.py").write_text("from ..usecases import orders\n")
    assert offending("sample_service", bad, "usecases") == {
        "usecases/orders.py": [
            "flask",
            "flask.g",
            "sample_service.wiring",
            "sample_service.wiring.deps",
            "servicekit.logs.configure",
        ]
    }
    assert offending("sample_service", bad, "domain") == {"domain/rules.py": ["requests"]}
    assert offending("sample_service", bad, "api") == {}
