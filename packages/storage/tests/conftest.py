"""Providers for the storage contract suite, each on a real backend: local folder, moto's S3 server,
Azurite's Blob service (installed with `npm install` into tests/.azurite, see the README)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from storage import Storage
from testkit.servers import free_port, start_process, stop_process

AZURITE_DIR = Path(__file__).parent / ".azurite"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _azurite_binary() -> str:
    local = AZURITE_DIR / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return str(local)
    found = shutil.which("azurite-blob")
    if found:
        return found
    raise RuntimeError(f"azurite is not installed: npm install --prefix {AZURITE_DIR} azurite@3.37.0")


@pytest.fixture(scope="session")
def azurite_connection_string() -> Iterator[str]:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="azurite-")
    proc = start_process(
        [
            _azurite_binary(),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
        ],
        port=port,
        cwd=workdir,
    )
    try:
        yield (
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        )
    finally:
        stop_process(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def _local(request: pytest.FixtureRequest) -> Storage:
    from storage.providers.local import LocalProvider

    return Storage(LocalProvider(request.getfixturevalue("tmp_path") / "files"))


def _s3(request: pytest.FixtureRequest) -> Storage:
    from storage.providers.s3 import S3Provider

    endpoint = request.getfixturevalue("aws_env")
    provider = S3Provider(f"bucket-{uuid.uuid4().hex[:12]}", endpoint_url=endpoint, region="us-east-1")
    provider.provision()
    return Storage(provider)


def _azure(request: pytest.FixtureRequest) -> Storage:
    from storage.providers.azure_blob import AzureBlobProvider

    provider = AzureBlobProvider(request.getfixturevalue("azurite_connection_string"), f"c{uuid.uuid4().hex[:12]}")
    provider.provision()
    return Storage(provider)


BACKENDS = {"local": _local, "s3": _s3, "azure": _azure}


@pytest.fixture(params=list(BACKENDS))
def files(request: pytest.FixtureRequest) -> Storage:
    return BACKENDS[request.param](request)
