"""The Service Provider Interface every storage provider implements.

Keys are `/`-separated relative paths (`logs/2026/11/22/run-1.jsonl`). The facade checks them before a
provider sees them (`validate_key`), so a provider may assume a clean key. The contract, checked by
tests/test_contract.py for every provider:

- `put` stores the bytes (from `bytes` or a binary file object, streamed) with a content type and
  returns the object's metadata; it replaces an existing object;
- `open` streams the content in chunks; `ObjectNotFound` for a missing key;
- `stat` returns metadata (size, content type, last modified); `exists`; `delete` is idempotent and
  says whether something was deleted;
- `list(prefix)` yields every object whose key starts with the prefix, in key order;
- `presigned_download_url` / `presigned_upload_url` give a URL usable without credentials for
  `expires_in` seconds (GET resp. PUT), or raise `NotSupported`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, ClassVar

from .errors import InvalidKey, NotSupported

MAX_KEY_LENGTH = 1024
CHUNK_SIZE = 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str | None = None
    last_modified: datetime | None = None
    etag: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


Data = bytes | bytearray | memoryview | IO[bytes]


def validate_key(key: str, *, prefix: bool = False) -> str:
    """The key if it is a clean relative path; `InvalidKey` otherwise. A prefix may be empty or end in /."""
    if not isinstance(key, str):
        raise InvalidKey("a key is a string")
    if not key and not prefix:
        raise InvalidKey("a key cannot be empty")
    if len(key.encode()) > MAX_KEY_LENGTH:
        raise InvalidKey(f"a key is at most {MAX_KEY_LENGTH} bytes")
    if key.startswith("/") or "\\" in key or _CONTROL.search(key):
        raise InvalidKey(f"{key!r}: a key is a relative path without backslashes or control characters")
    parts = key.split("/")
    body = parts[:-1] if prefix or key.endswith("/") else parts
    if any(p in ("", ".", "..") for p in body) or (not prefix and parts[-1] == ""):
        raise InvalidKey(f"{key!r}: empty, '.' or '..' path segments are not allowed")
    return key


class StorageProvider(ABC):
    name: ClassVar[str]

    @classmethod
    def from_settings(cls, settings: Any) -> StorageProvider:
        raise NotSupported(f"{cls.__name__} cannot be built from settings")

    @abstractmethod
    def put(
        self, key: str, data: Data, *, content_type: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo: ...

    @abstractmethod
    def open(self, key: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The content as chunks; raises `ObjectNotFound` before yielding anything when missing."""

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def presigned_download_url(self, key: str, *, expires_in: int = 3600) -> str:
        raise NotSupported(f"{self.name} has no presigned URLs")

    def presigned_upload_url(self, key: str, *, expires_in: int = 3600, content_type: str | None = None) -> str:
        raise NotSupported(f"{self.name} has no presigned URLs")

    def provision(self) -> None:  # noqa: B027 - optional hook
        """Create the bucket/container/root folder if missing (idempotent)."""

    def ping(self) -> None:  # noqa: B027 - optional hook
        """Raise if the backend cannot be reached (readiness checks)."""
