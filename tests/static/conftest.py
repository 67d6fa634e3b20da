"""Fixtures of the static tests: the repository's compose file, Dockerfiles and service table, parsed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# pytest runs with --import-mode=importlib, which puts no test folder on sys.path; the rules module is ours.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import static_rules  # noqa: E402


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def compose_text() -> str:
    return (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


@pytest.fixture
def compose(compose_text) -> dict:
    # Function scope: tests mutate their copy to show that a rule catches a violation.
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="session")
def env_example_names() -> set[str]:
    return static_rules.env_example_names((ROOT / ".env.example").read_text(encoding="utf-8"))
