"""One place for a service's dependencies: ``create_app`` builds them once, views read them.

Each service has a ``wiring.py`` with a frozen dataclass of everything its views and use cases need
(repositories, caches, clients, settings), a ``build_dependencies(settings)`` that constructs it, and a
``deps()`` accessor that returns it typed. ``create_app`` installs it with :func:`install_dependencies`;
blueprints only route. Tests pass their own object to ``create_app`` instead of patching.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Flask, current_app

EXTENSION_KEY = "servicekit.dependencies"
T = TypeVar("T")


def install_dependencies(app: Flask, dependencies: T) -> T:
    if EXTENSION_KEY in app.extensions:
        raise RuntimeError("this app's dependencies are already installed")
    app.extensions[EXTENSION_KEY] = dependencies
    return dependencies


def dependencies_of(app: Flask, kind: type[T]) -> T:
    found: Any = app.extensions.get(EXTENSION_KEY)
    if not isinstance(found, kind):
        raise RuntimeError(f"no {kind.__name__} installed on this app (servicekit.install_dependencies)")
    return found


def current_dependencies(kind: type[T]) -> T:
    """The dependencies of the app handling the current request, as the given type."""
    return dependencies_of(current_app, kind)
