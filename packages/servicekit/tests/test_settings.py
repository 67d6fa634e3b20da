"""Settings come from the environment or NAME_FILE; a missing one stops the service with one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from servicekit import ServiceSettings, load_settings


class Needs(ServiceSettings):
    database_url: str


def test_values_come_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db")
    settings = load_settings(Needs)
    assert settings.jwt_secret.get_secret_value() == "from-env"
    assert settings.database_url == "postgresql://db"


def test_secret_file_is_read(monkeypatch, tmp_path) -> None:
    secret = tmp_path / "jwt"
    secret.write_text("from-file\n")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("JWT_SECRET_FILE", str(secret))
    monkeypatch.setenv("DATABASE_URL_FILE", str(secret))
    settings = load_settings(Needs)
    assert settings.jwt_secret.get_secret_value() == "from-file"


def test_plain_variable_wins_over_file(monkeypatch, tmp_path) -> None:
    secret = tmp_path / "jwt"
    secret.write_text("from-file")
    monkeypatch.setenv("JWT_SECRET", "from-env")
    monkeypatch.setenv("JWT_SECRET_FILE", str(secret))
    monkeypatch.setenv("DATABASE_URL", "x")
    assert load_settings(Needs).jwt_secret.get_secret_value() == "from-env"


def test_secret_value_is_not_printed(monkeypatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "hunter2-very-secret")
    monkeypatch.setenv("DATABASE_URL", "x")
    assert "hunter2" not in repr(load_settings(Needs))


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, "missing required setting JWT_SECRET (or JWT_SECRET_FILE), DATABASE_URL (or DATABASE_URL_FILE)"),
        ({"JWT_SECRET": "s", "DATABASE_URL": "x", "LOG_LEVEL": "LOUD"}, "invalid setting LOG_LEVEL"),
        ({"JWT_SECRET_FILE": "/nonexistent/secret", "DATABASE_URL": "x"}, "JWT_SECRET_FILE=/nonexistent/secret"),
    ],
)
def test_bad_configuration_stops_with_one_line(env, expected) -> None:
    code = (
        "from servicekit import ServiceSettings, load_settings\n"
        "class Needs(ServiceSettings):\n    database_url: str\n"
        "load_settings(Needs)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={"PATH": "/usr/bin", **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("configuration error: ")
    assert expected in lines[0]


def test_empty_values_count_as_unset(monkeypatch, tmp_path) -> None:
    class Optional_(ServiceSettings):
        api_key: str | None = None
        region: str = "us-east-1"

    empty = tmp_path / "empty"
    empty.write_text("\n")
    monkeypatch.setenv("JWT_SECRET", "s")
    monkeypatch.setenv("API_KEY_FILE", str(empty))
    monkeypatch.setenv("REGION", "")
    settings = load_settings(Optional_)
    assert settings.api_key is None and settings.region == "us-east-1"
