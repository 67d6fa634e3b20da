"""Service configuration: environment variables, validated once at start-up.

Every field may also be given as ``NAME_FILE`` (the path of a file holding the value), which is how
Docker secrets reach a container. ``NAME`` wins when both are set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class SecretFileSource(PydanticBaseSettingsSource):
    """Reads ``<FIELD>_FILE`` for every field, so any setting can be a Docker secret."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        # A field named by an alias (JOBS_PROVIDER for `provider`) reads that alias's _FILE.
        key = field.validation_alias if isinstance(field.validation_alias, str) else field_name
        path = os.environ.get(f"{key.upper()}_FILE")
        if not path:
            return None, key, False
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{key.upper()}_FILE={path} cannot be read: {exc.strerror}") from exc
        # An empty secret file means "not configured", as an empty variable does.
        return (value or None), key, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


class ConfigurationError(RuntimeError):
    pass


class EnvSettings(BaseSettings):
    """Settings from the environment where every field may also come from ``NAME_FILE``.

    The base of every settings class of the suite (services and shared packages), so that secrets reach
    all of them the same way. An empty variable or file counts as unset.
    """

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, SecretFileSource(settings_cls))


class ServiceSettings(EnvSettings):
    """What every service needs; each service subclasses it with its own fields."""

    service_name: str = "service"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_dir: Path | None = None
    jwt_secret: SecretStr
    jwt_issuer: str = "fleet-api"
    jwt_audience: str = "trucking-suite"
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_ttl_seconds: int = 3600
    # Redis holding every user's token version, written by fleet-api (servicekit/revocation.py); every service of
    # a deployment names the same one. Unset: person tokens are not checked for revocation (logged at start-up).
    auth_redis_url: SecretStr | None = None
    # How long a process decides from its last copy of the token versions while that Redis cannot be reached.
    auth_redis_grace_seconds: float = Field(30.0, ge=0, le=3600)
    max_content_length: int = 1_048_576
    # Deeper JSON bodies are refused (400) before parsing; capped so that no recursive walk nears Python's limit.
    max_json_depth: int = Field(64, ge=1, le=256)
    readiness_timeout_seconds: float = 2.0


def sqlalchemy_url(url: str) -> str:
    """``postgresql://`` (what most tools and secrets write) means psycopg 3 for SQLAlchemy here."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


S = TypeVar("S", bound=ServiceSettings)


def describe_errors(exc: ValidationError) -> str:
    missing, invalid = [], []
    for err in exc.errors(include_url=False, include_input=False):
        name = ".".join(str(p) for p in err["loc"]).upper()
        if err["type"] == "missing":
            missing.append(name)
        else:
            invalid.append(f"{name} ({err['msg']})")
    parts = []
    if missing:
        parts.append("missing required setting " + ", ".join(f"{n} (or {n}_FILE)" for n in missing))
    if invalid:
        parts.append("invalid setting " + ", ".join(invalid))
    return "; ".join(parts)


def _exit_code() -> int:
    # gunicorn halts (rather than respawning workers forever) when a worker exits with its boot-error code.
    return 3 if "gunicorn.arbiter" in sys.modules else 2


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build the settings or stop the process with one line that names what is wrong."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        print(f"configuration error: {describe_errors(exc)}", file=sys.stderr, flush=True)
        raise SystemExit(_exit_code()) from None
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(_exit_code()) from None
