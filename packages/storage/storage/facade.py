"""`Storage`: what the applications call. It checks keys, then delegates to the configured provider."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from typing import IO

from .spi import CHUNK_SIZE, Data, ObjectInfo, StorageProvider, validate_key


class Storage:
    def __init__(self, provider: StorageProvider):
        self.provider = provider

    @property
    def name(self) -> str:
        return self.provider.name

    def put(
        self, key: str, data: Data | str, *, content_type: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        """Store `data` (bytes, str as UTF-8, or a binary file object read in chunks) under `key`."""
        if isinstance(data, str):
            data = data.encode()
            content_type = content_type or "text/plain; charset=utf-8"
        return self.provider.put(validate_key(key), data, content_type=content_type, metadata=dict(metadata or {}))

    def open(self, key: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Stream the content in chunks (`ObjectNotFound` if missing)."""
        return self.provider.open(validate_key(key), chunk_size=chunk_size)

    def get(self, key: str) -> bytes:
        """The whole content in memory; prefer `open` for large objects."""
        return b"".join(self.open(key))

    def download(self, key: str, target: IO[bytes]) -> int:
        """Copy the content into a binary file object; returns the number of bytes written."""
        written = 0
        for chunk in self.open(key):
            target.write(chunk)
            written += len(chunk)
        return written

    def stat(self, key: str) -> ObjectInfo:
        return self.provider.stat(validate_key(key))

    def exists(self, key: str) -> bool:
        return self.provider.exists(validate_key(key))

    def delete(self, key: str) -> bool:
        """Delete; True if an object was there. Deleting a missing key is not an error."""
        return self.provider.delete(validate_key(key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix`, in key order."""
        return self.provider.list(validate_key(prefix, prefix=True))

    def presigned_download_url(self, key: str, *, expires_in: int = 3600) -> str:
        return self.provider.presigned_download_url(validate_key(key), expires_in=expires_in)

    def presigned_upload_url(self, key: str, *, expires_in: int = 3600, content_type: str | None = None) -> str:
        return self.provider.presigned_upload_url(validate_key(key), expires_in=expires_in, content_type=content_type)

    def provision(self) -> None:
        self.provider.provision()

    def ping(self) -> None:
        self.provider.ping()


def as_stream(data: Data) -> IO[bytes]:
    """A binary file object over `data` (providers that want one)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(data))
    return data
