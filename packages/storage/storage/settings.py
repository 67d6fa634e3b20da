"""Configuration of the storage package, from the environment (every field also reads `NAME_FILE`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from servicekit.settings import EnvSettings


class StorageSettings(EnvSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)

    provider: str = Field("local", validation_alias="STORAGE_PROVIDER")
    local_root: Path = Field(Path(".local/storage"), validation_alias="STORAGE_LOCAL_ROOT")
    bucket: str = Field("suite-files", validation_alias="STORAGE_BUCKET")
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")
    aws_region: str | None = Field(None, validation_alias="AWS_DEFAULT_REGION")
    azure_connection_string: str | None = Field(None, validation_alias="AZURE_STORAGE_CONNECTION_STRING")
    container: str = Field("suite-files", validation_alias="STORAGE_CONTAINER")
    create_if_missing: bool = Field(False, validation_alias="STORAGE_CREATE_IF_MISSING")
