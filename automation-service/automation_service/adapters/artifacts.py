"""Failure screenshots and page HTML, saved through packages/storage (local, S3 or Azure by configuration)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import storage


class FailureArtifacts:
    def __init__(self, prefix: str, run_id: str, files: storage.Storage | None = None) -> None:
        self.prefix = prefix.strip("/")
        self.run_id = run_id
        self._files = files

    @property
    def files(self) -> storage.Storage:
        # Built on first failure only: a run that goes well never touches the storage backend.
        if self._files is None:
            self._files = storage.get_storage()
        return self._files

    def save(self, portal: str, png: bytes | None, html: str | None) -> list[str]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        base = f"{self.prefix}/{self.run_id}/{portal}-{stamp}"
        metadata = {"run_id": self.run_id, "portal": portal}
        keys = []
        if png is not None:
            self.files.put(f"{base}.png", png, content_type="image/png", metadata=metadata)
            keys.append(f"{base}.png")
        if html is not None:
            self.files.put(f"{base}.html", html.encode(), content_type="text/html; charset=utf-8", metadata=metadata)
            keys.append(f"{base}.html")
        return keys

    async def save_async(self, portal: str, png: bytes | None, html: str | None) -> list[str]:
        return await asyncio.to_thread(self.save, portal, png, html)
