"""The provider registry: `STORAGE_PROVIDER` name -> provider class (one line per provider).

Named by import path so an application imports only the SDK of the provider it uses.
"""

from __future__ import annotations

import importlib

from ..settings import StorageSettings
from ..spi import StorageProvider

PROVIDERS: dict[str, str] = {
    "local": "storage.providers.local:LocalProvider",
    "s3": "storage.providers.s3:S3Provider",
    "azure": "storage.providers.azure_blob:AzureBlobProvider",
}


def provider_class(name: str) -> type[StorageProvider]:
    try:
        target = PROVIDERS[name]
    except KeyError:
        raise ValueError(f"unknown STORAGE_PROVIDER {name!r}; choose one of {sorted(PROVIDERS)}") from None
    module, _, attr = target.partition(":")
    found = getattr(importlib.import_module(module), attr)
    if not (isinstance(found, type) and issubclass(found, StorageProvider)):
        raise TypeError(f"{target} is not a StorageProvider")
    return found


def build_provider(settings: StorageSettings | None = None) -> StorageProvider:
    settings = settings or StorageSettings()
    provider = provider_class(settings.provider).from_settings(settings)
    if settings.create_if_missing:
        provider.provision()
    return provider
