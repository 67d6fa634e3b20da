"""The day's lists and the operational log in the logs bucket, through packages/storage (S3).

    manifests/<day>.json                                  the day's lists, as uploaded or generated
    logs/day=<day>/<kind>/<time>-<run or request>.jsonl   operational log records, one object per request

One object per request batches that request's records into one write; the run id in the name makes a
retried run overwrite its own object instead of adding a second one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

import storage
from storage.providers.s3 import S3Provider

from .aws import translated


class Files:
    def __init__(self, files: storage.Storage, *, provision: bool = False, client: Any = None):
        self.files = files
        self._client = client  # the boto3 client under the storage, closed with it
        self._provision = provision
        self._provisioned = threading.Event()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, bytes]] = {}

    @classmethod
    def on_s3(cls, client: Any, bucket: str, *, provision: bool) -> Files:
        return cls(storage.Storage(S3Provider(bucket, client=client)), provision=provision, client=client)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def ensure(self) -> None:
        if not self._provision or self._provisioned.is_set():
            return
        with translated("S3"):
            self.files.provision()
        self._provisioned.set()

    @staticmethod
    def manifest_key(day: str) -> str:
        return f"manifests/{day}.json"

    def put_manifest(self, day: str, body: bytes) -> str:
        self.ensure()
        key = self.manifest_key(day)
        with translated("S3"):
            self.files.put(key, body, content_type="application/json")
        return key

    def manifest(self, day: str) -> tuple[str, bytes] | None:
        """(version, body) of the day's lists, or None. The body is cached per version (ETag)."""
        self.ensure()
        key = self.manifest_key(day)
        with translated("S3"):
            try:
                version = self.files.stat(key).etag or ""
            except storage.ObjectNotFound:
                return None
            with self._lock:
                cached = self._cache.get(key)
            if cached and cached[0] == version:
                return cached
            try:
                body = self.files.get(key)
            except storage.ObjectNotFound:
                return None
        with self._lock:
            self._cache = {key: (version, body)}  # the current day is what is asked for: keep one
        return version, body

    def write_log(self, day: str, kind: str, name: str, records: Iterable[dict[str, Any]]) -> str:
        self.ensure()
        key = f"logs/day={day}/{kind}/{name}.jsonl"
        body = "".join(json.dumps(r, sort_keys=True, default=str) + "\n" for r in records).encode()
        with translated("S3"):
            self.files.put(key, body, content_type="application/x-ndjson")
        return key
