"""The skeleton's arrows, read from the source's imports: each layer imports only what lies below it, no HTTP
problem is raised outside servicekit, and no file name is on two layers."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dispatch_service"
LAYERS = ("api", "usecases", "domain", "adapters", "background")


def imports_of(path: Path, package_root: Path = PACKAGE) -> set[str]:
    """Every module a file imports, as an absolute name (``from ..x import y`` gives ``dispatch_service.x`` and
    ``dispatch_service.x.y``: y may be a module)."""
    parts = path.relative_to(package_root).with_suffix("").parts
    package = ".".join(("dispatch_service", *parts[:-1]))
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def offending(
    layer: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = (), package_root: Path = PACKAGE
) -> dict[str, list[str]]:
    target = package_root / layer
    paths = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    found = {}
    for path in paths:
        bad = sorted(
            name
            for name in imports_of(path, package_root)
            if any(name == f or name.startswith(f + ".") for f in forbidden)
            and not any(name == a or name.startswith(a + ".") for a in allowed)
        )
        if bad:
            found[str(path.relative_to(package_root))] = bad
    return found


WEB = ("flask", "werkzeug", "click")
AWS = ("boto3", "botocore", "storage")
UPPER = ("dispatch_service.wiring", "dispatch_service.api")


@pytest.mark.parametrize(
    "layer, forbidden, allowed",
    [
        # Rules and models: no I/O, no web, nothing of the service but the domain.
        ("domain", (*WEB, *AWS, "servicekit", "dispatch_service"), ("dispatch_service.domain",)),
        # Use cases: no web, no wiring, no AWS SDK of their own; refusals from servicekit.domain_errors only.
        ("usecases", (*WEB, *AWS, *UPPER, "servicekit"), ("servicekit.domain_errors",)),
        # Adapters: the I/O, called from above, calling nothing above.
        ("adapters", (*WEB, *UPPER, "dispatch_service.usecases", "dispatch_service.metrics"), ()),
        ("metrics.py", (*WEB, *AWS, *UPPER, "dispatch_service.usecases", "dispatch_service.adapters"), ()),
        # Views route to use cases: no AWS, no adapters.
        ("api", (*AWS, "dispatch_service.adapters"), ()),
    ],
)
def test_each_layer_imports_only_what_lies_below_it(layer, forbidden, allowed):
    assert offending(layer, forbidden, allowed) == {}


def test_only_create_app_and_the_views_read_the_wiring():
    readers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name.split(".")[:2] == ["dispatch_service", "wiring"] for name in imports_of(path))
    )
    assert readers and all(reader == "__init__.py" or reader.startswith("api/") for reader in readers), readers


def test_no_http_problem_anywhere_in_the_service():
    """Refusals are servicekit.domain_errors; servicekit alone turns them into statuses and problem+json."""
    http = {"servicekit.ApiProblem", "servicekit.errors.ApiProblem", "servicekit.validation.validation_problem"}
    for path in PACKAGE.rglob("*.py"):
        assert not http & imports_of(path), path


def test_no_file_name_on_two_layers():
    layers_of: dict[str, set[str]] = defaultdict(set)
    for layer in LAYERS:
        for path in (PACKAGE / layer).glob("*.py"):
            if path.name != "__init__.py":
                layers_of[path.name].add(layer)
    for path in PACKAGE.glob("*.py"):
        layers_of[path.name].add("top")
    assert {name: sorted(layers) for name, layers in layers_of.items() if len(layers) > 1} == {}


def test_the_checker_sees_an_arrow_that_runs_up(tmp_path):
    """A use case reaching for the wiring or Flask is caught (the test would otherwise pass on an empty scan)."""
    bad = tmp_path / "dispatch_service"
    (bad / "usecases").mkdir(parents=True)
    (bad / "usecases" / "sneaky.py").write_text("from ..wiring import deps\nfrom flask import g\n")
    assert offending("usecases", (*WEB, *UPPER), (), package_root=bad) == {
        "usecases/sneaky.py": ["dispatch_service.wiring", "dispatch_service.wiring.deps", "flask", "flask.g"]
    }
