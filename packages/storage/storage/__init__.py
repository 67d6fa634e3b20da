"""File storage behind one interface (S3 on any endpoint, Azure Blob, local filesystem).

import storage
files = storage.get_storage()                    # provider from STORAGE_PROVIDER
files.put("logs/2026-11-22/run.jsonl", data, content_type="application/x-ndjson")
for chunk in files.open("logs/2026-11-22/run.jsonl"): ...
"""

from __future__ import annotations

import threading

from .errors import InvalidKey, NotSupported, ObjectNotFound, StorageError
from .facade import Storage
from .settings import StorageSettings
from .spi import ObjectInfo, StorageProvider, validate_key

_lock = threading.Lock()
_default: Storage | None = None


def from_settings(settings: StorageSettings | None = None) -> Storage:
    """A new `Storage` over the provider named by the settings (default: from the environment)."""
    from .providers import build_provider

    return Storage(build_provider(settings))


def get_storage() -> Storage:
    """The process-wide `Storage`, built from the environment on first use."""
    global _default
    with _lock:
        if _default is None:
            _default = from_settings()
        return _default


def configure(settings: StorageSettings | None = None, *, provider: StorageProvider | None = None) -> Storage:
    """Replace the process-wide `Storage` (tests, or an application with its own settings object)."""
    global _default
    with _lock:
        _default = Storage(provider) if provider is not None else from_settings(settings)
        return _default


__all__ = [
    "InvalidKey",
    "NotSupported",
    "ObjectInfo",
    "ObjectNotFound",
    "Storage",
    "StorageError",
    "StorageProvider",
    "StorageSettings",
    "configure",
    "from_settings",
    "get_storage",
    "validate_key",
]
