"""The skeleton's arrows, read from the source's imports: each layer imports only what lies below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "audit_worker"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, as an absolute name (``from ..x import y`` gives ``audit_worker.x`` and
    ``audit_worker.x.y``: y may be a module)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    # A package's __init__ is the package itself; a module's relative imports start from its package.
    package = ".".join(("audit_worker", *parts[:-1]))
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
UPPER = ("audit_worker.wiring", "audit_worker.api", "audit_worker.background", "audit_worker.consumer")


@pytest.mark.parametrize(
    "layer, forbidden, allowed",
    [
        # Rules and models: no I/O, no web, nothing of the service but the domain.
        (
            "domain",
            (*WEB, "sqlalchemy", "redis", "requests", "jobs", "servicekit", "audit_worker"),
            ("audit_worker.domain", "servicekit.domain_errors"),
        ),
        # Use cases: no web, no wiring, refusals from servicekit.domain_errors only.
        ("usecases", (*WEB, *UPPER, "servicekit"), ("servicekit.domain_errors",)),
        # Adapters: the I/O, called from above, calling nothing above. They may count what only they see (a
        # model call's attempts, an e-mail handed over) in metrics.py, which imports nothing above the domain.
        ("adapters", (*WEB, *UPPER, "audit_worker.usecases"), ()),
        ("metrics.py", (*WEB, *UPPER, "audit_worker.usecases", "audit_worker.adapters"), ()),
        # Background parts call use cases; they are started by the lifecycle, not by views.
        ("background", (*WEB, *UPPER), ()),
        # Views route to use cases: no SQL, no repositories, no adapters.
        ("api", ("sqlalchemy", "redis", "audit_worker.adapters", "audit_worker.background"), ()),
    ],
)
def test_each_layer_imports_only_what_lies_below_it(layer, forbidden, allowed):
    assert offending(layer, forbidden, allowed) == {}


def test_only_create_app_and_the_views_read_the_wiring():
    readers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name == "audit_worker.wiring" or name.startswith("audit_worker.wiring.") for name in imports_of(path))
    )
    assert all(reader == "__init__.py" or reader.startswith("api/") for reader in readers), readers


def test_no_file_name_on_two_layers():
    where: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "__init__.py":
            where.setdefault(path.name, []).append(str(path.parent.relative_to(PACKAGE)))
    assert {name: layers for name, layers in where.items() if len(layers) > 1} == {}


def test_no_http_problem_outside_the_views():
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "api":
            continue
        assert not {"servicekit.ApiProblem", "servicekit.errors"} & imports_of(path), path


def test_the_checker_sees_an_arrow_that_runs_up(tmp_path, monkeypatch):
    """A use case reaching for the wiring is caught (the test would otherwise pass on an empty scan)."""
    bad = tmp_path / "audit_worker"
    (bad / "usecases").mkdir(parents=True)
    (bad / "usecases" / "sneaky.py").write_text("from ..wiring import deps\nfrom flask import g\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", bad)
    assert offending("usecases", (*WEB, *UPPER), ()) == {
        "usecases/sneaky.py": ["audit_worker.wiring", "audit_worker.wiring.deps", "flask", "flask.g"]
    }
