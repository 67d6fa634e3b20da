"""The one wiring skeleton: dependencies installed once on the app, read typed by views; the runtime package
imports no test tooling."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest
from flask import Flask
from servicekit import current_dependencies, dependencies_of, install_dependencies


@dataclass(frozen=True)
class Deps:
    greeting: str


def test_views_read_the_installed_dependencies() -> None:
    app = Flask(__name__)
    install_dependencies(app, Deps("hello"))
    app.add_url_rule("/", "index", lambda: current_dependencies(Deps).greeting)
    assert app.test_client().get("/").get_data(as_text=True) == "hello"
    assert dependencies_of(app, Deps).greeting == "hello"


def test_installing_twice_or_reading_the_wrong_type_is_an_error() -> None:
    app = Flask(__name__)
    install_dependencies(app, Deps("a"))
    with pytest.raises(RuntimeError, match="already installed"):
        install_dependencies(app, Deps("b"))
    with pytest.raises(RuntimeError, match="no str installed"):
        dependencies_of(app, str)
    with pytest.raises(RuntimeError, match="no Deps installed"):
        dependencies_of(Flask(__name__), Deps)


def test_the_runtime_package_imports_no_test_tooling() -> None:
    code = (
        "import sys, servicekit, servicekit.checks, servicekit.gunicorn_conf; "
        "print(sorted(m for m in ('pytest', 'suite_db', 'testkit') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
