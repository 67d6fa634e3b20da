"""Local filesystem provider: one file per object under a root folder (the local stack's default).

Content type and user metadata live in a sidecar JSON file under `<root>/.storage-meta/`, a name that
keys cannot take. Writes go to a temporary file renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import mimetypes
import os
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ..errors import InvalidKey, ObjectNotFound
from ..settings import StorageSettings
from ..spi import CHUNK_SIZE, Data, ObjectInfo, StorageProvider

META_DIR = ".storage-meta"


class LocalProvider(StorageProvider):
    name = "local"

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> LocalProvider:
        provider = cls(settings.local_root)
        provider.provision()  # a folder costs nothing; a missing one would fail every first write
        return provider

    def provision(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise OSError(f"{self.root} is not writable")

    def _path(self, key: str) -> Path:
        if key.split("/", 1)[0] == META_DIR:
            raise InvalidKey(f"{key!r}: {META_DIR}/ is reserved")
        path = (self.root / key).resolve()
        # resolve() follows symlinks, so a link pointing outside the root is caught as well.
        if path != self.root and self.root not in path.parents:
            raise InvalidKey(f"{key!r} escapes the storage root")
        return path

    def _meta_path(self, key: str) -> Path:
        return self.root / META_DIR / f"{key}.json"

    def put(
        self, key: str, data: Data, *, content_type: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes | bytearray | memoryview):
                    out.write(data)
                else:
                    while chunk := data.read(CHUNK_SIZE):
                        out.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        meta = self._meta_path(key)
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({"content_type": content_type, "metadata": dict(metadata or {})}))
        return self.stat(key)

    def open(self, key: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        return self._chunks(handle, chunk_size)

    @staticmethod
    def _chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        st = path.stat()
        try:
            meta = json.loads(self._meta_path(key).read_text())
        except (FileNotFoundError, ValueError):
            meta = {}
        content_type = meta.get("content_type") or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return ObjectInfo(
            key=key,
            size=st.st_size,
            content_type=content_type,
            last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
            metadata=meta.get("metadata") or {},
        )

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> bool:
        path = self._path(key)
        self._meta_path(key).unlink(missing_ok=True)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError):
            return False
        # Drop the folders the object leaves empty, so listings stay what the keys say.
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
        return True

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        keys = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            if rel_dir == ".":
                dirnames[:] = [d for d in dirnames if d != META_DIR]
                rel_dir = ""
            for filename in filenames:
                if filename.startswith(".upload-"):
                    continue
                key = f"{rel_dir}/{filename}" if rel_dir else filename
                if key.startswith(prefix):
                    keys.append(key)
        for key in sorted(keys):
            try:
                yield self.stat(key)
            except ObjectNotFound:  # deleted while listing
                continue
