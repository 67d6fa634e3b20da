from __future__ import annotations

import sys
from pathlib import Path

import pytest
from flask import Flask

# Helpers next to this file have names of their own, so they cannot clash with other test folders.
sys.path.insert(0, str(Path(__file__).parent))

from servicekit_sample import SECRET, Settings, build_app  # noqa: E402

__all__ = ["SECRET", "Settings", "build_app"]


@pytest.fixture()
def settings(tmp_path) -> Settings:
    return Settings(jwt_secret=SECRET, log_dir=tmp_path / "logs", max_content_length=2048)


@pytest.fixture()
def app(settings: Settings) -> Flask:
    return build_app(settings)


@pytest.fixture()
def token(settings: Settings) -> str:
    from servicekit import issue_token

    return issue_token(settings, "user-1")[0]


@pytest.fixture()
def client(app: Flask):
    return app.test_client()


@pytest.fixture()
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
