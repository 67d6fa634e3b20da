"""Configuration of the storage package, from the environment (every field also reads `NAME_FILE`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    provider: str = Field("local", validation_alias="STORAGE_PROVIDER")
    local_root: Path = Field(Path(".local/storage"), validation_alias="STORAGE_LOCAL_ROOT")
    bucket: str = Field("suite-files", validation_alias="STORAGE_BUCKET")
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")
    aws_region: str | None = Field(None, validation_alias="AWS_DEFAULT_REGION")
    azure_connection_string: str | None = Field(None, validation_alias="AZURE_STORAGE_CONNECTION_STRING")
    container: str = Field("suite-files", validation_alias="STORAGE_CONTAINER")
    create_if_missing: bool = Field(False, validation_alias="STORAGE_CREATE_IF_MISSING")

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        # Compose passes secrets as files: NAME_FILE wins only when NAME itself is unset.
        data = dict(data or {})
        for name, info in cls.model_fields.items():
            env = info.validation_alias if isinstance(info.validation_alias, str) else name.upper()
            if env in data or name in data or os.environ.get(env):
                continue
            path = os.environ.get(f"{env}_FILE")
            if path:
                data[env] = Path(path).read_text().strip()
        return data
