"""The shared packages under packages/ import no application: not db/'s suite_db, not a service's package.
Their tests may (they are the caller that passes a schema, a service to run); their code may not."""

from __future__ import annotations

import ast

from suite_support import ROOT

APPLICATIONS = {
    "suite_db",
    "dispatch_service",
    "fleet_api",
    "gpt_service",
    "automation_service",
    "loadboard_sim",
    "bakery_service",
    "audit_worker",
}


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_shared_package_imports_an_application():
    code = [
        path
        for path in sorted((ROOT / "packages").glob("*/*/**/*.py"))
        if "tests" not in path.relative_to(ROOT / "packages").parts and ".venv" not in path.parts
    ]
    assert len(code) > 20
    arrows = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path.read_text(encoding="utf-8")) & APPLICATIONS)
        for path in code
    }
    assert {path: apps for path, apps in arrows.items() if apps} == {}


def test_the_check_sees_an_import_inside_a_function():
    assert imported_roots("def f():\n    from suite_db import upgrade\n") == {"suite_db"}
    assert imported_roots("from . import upgrade\nimport fleet_api.wiring as w\n") == {"fleet_api"}
