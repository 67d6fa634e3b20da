"""What every service's lifecycle test checks once its app is closed."""

from __future__ import annotations

import pytest
from flask import Flask
from servicekit import close_app
from servicekit.lifecycle import lifecycle_of


def assert_closed_for_good(app: Flask) -> None:
    """After `close_app(app)`: its lifecycle stopped, a second close (gunicorn's worker_exit, then atexit) is
    harmless, and a closed lifecycle does not come back."""
    lifecycle = lifecycle_of(app)
    assert lifecycle is not None and not lifecycle.running
    close_app(app)
    with pytest.raises(RuntimeError):
        lifecycle.start()
