"""The storage SPI contract, run against every provider on a real backend (see conftest.py)."""

from __future__ import annotations

import io

import pytest
import requests
from storage import InvalidKey, NotSupported, ObjectNotFound, Storage

pytestmark = pytest.mark.integration


def test_put_then_get_round_trips_bytes_content_type_and_metadata(files: Storage) -> None:
    info = files.put(
        "logs/2026-11-22/run.jsonl", b'{"a":1}\n', content_type="application/x-ndjson", metadata={"run": "42"}
    )

    assert (info.key, info.size, info.content_type) == ("logs/2026-11-22/run.jsonl", 8, "application/x-ndjson")
    assert files.get("logs/2026-11-22/run.jsonl") == b'{"a":1}\n'
    stat = files.stat("logs/2026-11-22/run.jsonl")
    assert (stat.size, stat.content_type, dict(stat.metadata)) == (8, "application/x-ndjson", {"run": "42"})
    assert stat.last_modified is not None


def test_a_stream_is_stored_and_read_back_in_chunks(files: Storage) -> None:
    content = bytes(range(256)) * 12_000  # ~3 MB
    files.put("exports/big.bin", io.BytesIO(content))

    chunks = list(files.open("exports/big.bin", chunk_size=1024 * 1024))

    assert len(chunks) >= 3
    assert b"".join(chunks) == content
    assert files.stat("exports/big.bin").size == len(content)


def test_put_replaces_an_existing_object(files: Storage) -> None:
    files.put("a.txt", b"first")
    files.put("a.txt", b"second, longer")

    assert files.get("a.txt") == b"second, longer"
    assert [o.key for o in files.list()] == ["a.txt"]


def test_missing_object(files: Storage) -> None:
    assert files.exists("nope/missing.txt") is False
    with pytest.raises(ObjectNotFound):
        files.get("nope/missing.txt")
    with pytest.raises(ObjectNotFound):
        files.stat("nope/missing.txt")
    assert files.delete("nope/missing.txt") is False


def test_delete_removes_and_says_so(files: Storage) -> None:
    files.put("tmp/x.bin", b"x")

    assert files.exists("tmp/x.bin") is True
    assert files.delete("tmp/x.bin") is True
    assert files.exists("tmp/x.bin") is False
    assert list(files.list("tmp/")) == []


def test_list_by_prefix_in_key_order(files: Storage) -> None:
    for key in ["logs/b.txt", "logs/a.txt", "logs/sub/c.txt", "logsy.txt", "other/d.txt"]:
        files.put(key, key.encode())

    assert [o.key for o in files.list("logs/")] == ["logs/a.txt", "logs/b.txt", "logs/sub/c.txt"]
    assert [o.key for o in files.list("logs")] == ["logs/a.txt", "logs/b.txt", "logs/sub/c.txt", "logsy.txt"]
    assert len(list(files.list())) == 5
    assert {o.key: o.size for o in files.list("other/")} == {"other/d.txt": 11}


def test_unicode_and_space_in_keys(files: Storage) -> None:
    files.put("reports/été 2026.csv", "a;b\n", content_type="text/csv")

    assert files.get("reports/été 2026.csv") == b"a;b\n"
    assert [o.key for o in files.list("reports/")] == ["reports/été 2026.csv"]


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../escape", "a/../../b", "a//b", "a/./b", "a\\b", "nul\x00byte", "x" * 1100]
)
def test_bad_keys_are_refused_before_reaching_the_backend(files: Storage, key: str) -> None:
    with pytest.raises(InvalidKey):
        files.put(key, b"x")
    with pytest.raises(InvalidKey):
        files.exists(key)


def test_presigned_urls_where_supported(files: Storage) -> None:
    files.put("share/report.csv", b"id,total\n1,2\n", content_type="text/csv")
    if files.name == "local":
        with pytest.raises(NotSupported):
            files.presigned_download_url("share/report.csv")
        with pytest.raises(NotSupported):
            files.presigned_upload_url("share/upload.csv")
        return

    download = requests.get(files.presigned_download_url("share/report.csv", expires_in=300), timeout=10)
    assert download.status_code == 200
    assert download.content == b"id,total\n1,2\n"

    upload_url = files.presigned_upload_url("share/upload.csv", expires_in=300, content_type="text/csv")
    headers = {"Content-Type": "text/csv"}
    if files.name == "azure":
        headers["x-ms-blob-type"] = "BlockBlob"
    assert requests.put(upload_url, data=b"uploaded", headers=headers, timeout=10).status_code in (200, 201)
    assert files.get("share/upload.csv") == b"uploaded"

    unsigned = requests.get(files.presigned_download_url("share/report.csv").split("?")[0], timeout=10)
    assert unsigned.status_code in (401, 403, 404)
