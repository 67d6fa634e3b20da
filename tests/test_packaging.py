"""Each service's wheel carries all of its code: the package folder carries the import name and setuptools
finds every subpackage under it (a subpackage left out works editable here and breaks in the image)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatchcase

import pytest
from suite_support import ROOT, SERVICES, package_of


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_subpackage_is_in_the_wheel(service: str) -> None:
    config = tomllib.loads((ROOT / service / "pyproject.toml").read_text())["tool"]["setuptools"]
    package = package_of(service)
    assert (ROOT / service / package / "__init__.py").is_file(), f"{service}: the package folder is {package}/"
    on_disk = {
        ".".join(init.parent.relative_to(ROOT / service).parts)
        for init in (ROOT / service / package).rglob("__init__.py")
    }
    # setuptools' packages.find keeps a folder with an __init__.py whose dotted name matches an include pattern.
    include = config["packages"]["find"]["include"]
    found = {name for name in on_disk if any(fnmatchcase(name, pattern) for pattern in include)}
    assert on_disk - found == set(), f"{service}/pyproject.toml does not ship: {sorted(on_disk - found)}"
