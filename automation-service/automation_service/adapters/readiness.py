"""The service's own readiness check (servicekit's /readyz): Chromium is where CHROMIUM_PATH says."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


def chromium_present(path: str) -> Callable[[], dict[str, Any]]:
    # Ready means a run could start: a worker without its browser would fail every run.
    def check() -> dict[str, Any]:
        if not os.access(path, os.X_OK):
            raise RuntimeError(f"no Chromium at {path} (CHROMIUM_PATH)")  # logged, never shown by /readyz
        return {}

    return check
