"""The skeleton's arrows, read from the source's imports: each layer imports only what lies below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "automation_service"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, as an absolute name (``from ..x import y`` gives ``automation_service.x`` and
    ``automation_service.x.y``: y may be a module)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    # A package's __init__ is the package itself; a module's relative imports start from its package.
    package = ".".join(("automation_service", *parts[:-1]))
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


def files(layer: str) -> list[Path]:
    target = PACKAGE / layer
    return sorted(target.rglob("*.py")) if target.is_dir() else [target]


def offending(layer: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> dict[str, list[str]]:
    found = {}
    for path in files(layer):
        bad = sorted(
            name
            for name in imports_of(path)
            if any(name == f or name.startswith(f + ".") for f in forbidden)
            and not any(name == a or name.startswith(a + ".") for a in allowed)
        )
        if bad:
            found[str(path.relative_to(PACKAGE))] = bad
    return found


WEB = ("flask", "werkzeug")
UPPER = ("automation_service.wiring", "automation_service.api", "automation_service.background")


@pytest.mark.parametrize(
    "layer, forbidden, allowed",
    [
        # Rules and models: no I/O, no web, nothing of the service but the domain.
        (
            "domain",
            (*WEB, "sqlalchemy", "requests", "playwright", "storage", "servicekit", "automation_service"),
            ("automation_service.domain",),
        ),
        # Use cases: no web, no wiring, refusals from servicekit.domain_errors only.
        ("usecases", (*WEB, *UPPER, "servicekit"), ("servicekit.domain_errors",)),
        # Adapters: the I/O, called from above, calling nothing above (their own measures in metrics.py).
        ("adapters", (*WEB, *UPPER, "automation_service.usecases"), ()),
        ("metrics.py", (*WEB, *UPPER, "automation_service.usecases", "automation_service.adapters"), ()),
        # Background parts call use cases; they are started by the lifecycle, not by views.
        ("background", (*WEB, *UPPER), ()),
        # Views route to use cases: no SQL, no repositories, no adapters, no browser.
        ("api", ("sqlalchemy", "playwright", "automation_service.adapters", "automation_service.background"), ()),
    ],
)
def test_each_layer_imports_only_what_lies_below_it(layer, forbidden, allowed):
    assert offending(layer, forbidden, allowed) == {}


def test_only_create_app_and_the_views_read_the_wiring():
    readers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(
            name == "automation_service.wiring" or name.startswith("automation_service.wiring.")
            for name in imports_of(path)
        )
    )
    assert all(reader == "__init__.py" or reader.startswith("api/") for reader in readers), readers


def test_no_http_problem_outside_the_views():
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "api":
            continue
        assert not {"servicekit.ApiProblem", "servicekit.errors"} & imports_of(path), path


def test_the_checker_sees_an_arrow_that_runs_up(tmp_path, monkeypatch):
    """A use case reaching for the wiring is caught (the test would otherwise pass on an empty scan)."""
    bad = tmp_path / "automation_service"
    (bad / "usecases").mkdir(parents=True)
    (bad / "usecases" / "sneaky.py").write_text("from ..wiring import deps\nfrom flask import g\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", bad)
    assert offending("usecases", (*WEB, *UPPER), ()) == {
        "usecases/sneaky.py": [
            "automation_service.wiring",
            "automation_service.wiring.deps",
            "flask",
            "flask.g",
        ]
    }


def test_no_module_name_sits_on_two_layers():
    """A name says what a module is: api/loads.py beside usecases/read_loads.py, never a third loads.py."""
    layers = ("api", "usecases", "domain", "adapters", "background")
    seen: dict[str, list[str]] = {}
    for layer in layers:
        for path in files(layer):
            if path.stem != "__init__":
                seen.setdefault(path.stem, []).append(layer)
    assert len(seen) > 20
    assert {name: where for name, where in seen.items() if len(set(where)) > 1} == {}
