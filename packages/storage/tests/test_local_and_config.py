"""Local-filesystem specifics (the root is a boundary) and configuration by environment."""

from __future__ import annotations

import os

import pytest
import storage
from storage import InvalidKey, StorageSettings
from storage.providers import PROVIDERS, provider_class
from storage.providers.local import LocalProvider


def test_a_symlink_cannot_lead_outside_the_root(tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link")
    files = storage.Storage(LocalProvider(root))

    with pytest.raises(InvalidKey):
        files.get("link/secret.txt")
    with pytest.raises(InvalidKey):
        files.put("link/new.txt", b"x")
    assert not (outside / "new.txt").exists()


def test_metadata_folder_is_reserved_and_never_listed(tmp_path) -> None:
    files = storage.Storage(LocalProvider(tmp_path))
    files.put("a.json", b"{}", content_type="application/json", metadata={"k": "v"})

    assert [o.key for o in files.list()] == ["a.json"]
    with pytest.raises(InvalidKey):
        files.put(".storage-meta/a.json.json", b"{}")


def test_a_failed_stream_leaves_no_partial_object(tmp_path) -> None:
    class Broken:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("connection reset")
            return b"x" * size

    files = storage.Storage(LocalProvider(tmp_path))
    files.put("report.bin", b"old")
    with pytest.raises(OSError):
        files.put("report.bin", Broken())
    assert files.get("report.bin") == b"old"
    assert [o.key for o in files.list()] == ["report.bin"]


def test_default_provider_is_local_under_the_configured_root(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("STORAGE_PROVIDER", raising=False)
    monkeypatch.setenv("STORAGE_LOCAL_ROOT", str(tmp_path / "store"))
    files = storage.from_settings()

    assert files.name == "local"
    files.put("x/y.txt", "hello")
    assert (tmp_path / "store" / "x" / "y.txt").read_text() == "hello"


def test_settings_read_secret_files(monkeypatch, tmp_path) -> None:
    secret = tmp_path / "conn"
    secret.write_text("UseDevelopmentStorage=true\n")
    monkeypatch.setenv("STORAGE_PROVIDER", "azure")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING_FILE", str(secret))
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)

    assert StorageSettings().azure_connection_string == "UseDevelopmentStorage=true"


def test_provider_registry() -> None:
    assert set(PROVIDERS) == {"local", "s3", "azure"}
    for name in PROVIDERS:
        assert provider_class(name).name == name
    with pytest.raises(ValueError, match="choose one of"):
        provider_class("gcs")
