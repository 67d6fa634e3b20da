"""Each service's wheel carries all of its code: app/ is imported under the service's own name, so every
subpackage must be listed in its pyproject (a missing one works editable here and breaks in the image)."""

from __future__ import annotations

import tomllib

import pytest
from suite_support import ROOT, SERVICES, package_of


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_subpackage_is_in_the_wheel(service: str) -> None:
    config = tomllib.loads((ROOT / service / "pyproject.toml").read_text())["tool"]["setuptools"]
    package = package_of(service)
    assert config["package-dir"][package] == "app"
    on_disk = {
        ".".join([package, *init.parent.relative_to(ROOT / service / "app").parts])
        for init in (ROOT / service / "app").rglob("__init__.py")
    }
    listed = set(config["packages"])
    assert on_disk - listed == set(), f"add to {service}/pyproject.toml packages: {sorted(on_disk - listed)}"
