"""Azure Blob Storage provider (azure-storage-blob), on Azure or Azurite.

`AZURE_STORAGE_CONNECTION_STRING` selects the account (Azurite's well-known development string
locally), `STORAGE_CONTAINER` the container. Presigned URLs are blob SAS tokens, which need the account
key in the connection string (not available with a SAS-only connection string).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, ContentSettings, generate_blob_sas

from ..errors import NotSupported, ObjectNotFound, StorageError
from ..settings import StorageSettings
from ..spi import CHUNK_SIZE, Data, ObjectInfo, StorageProvider


class AzureBlobProvider(StorageProvider):
    name = "azure"

    def __init__(self, connection_string: str, container: str):
        # Ranged downloads of 4 MiB bound the memory a read takes (the SDK's first GET is 32 MiB).
        self.service = BlobServiceClient.from_connection_string(
            connection_string, max_single_get_size=4 * 1024 * 1024, max_chunk_get_size=4 * 1024 * 1024
        )
        self.container = self.service.get_container_client(container)
        self.container_name = container

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> AzureBlobProvider:
        if not settings.azure_connection_string:
            raise StorageError("STORAGE_PROVIDER=azure needs AZURE_STORAGE_CONNECTION_STRING")
        return cls(settings.azure_connection_string, settings.container)

    def provision(self) -> None:
        try:
            self.container.create_container()
        except ResourceExistsError:
            pass

    def ping(self) -> None:
        self.container.get_container_properties()

    def put(
        self, key: str, data: Data, *, content_type: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        body: Any = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data
        try:
            self.container.upload_blob(
                key,
                body,
                overwrite=True,
                metadata=dict(metadata or {}) or None,
                content_settings=ContentSettings(content_type=content_type or "application/octet-stream"),
            )
        except AzureError as exc:
            raise StorageError(f"put {key}: {exc}") from exc
        return self.stat(key)

    def open(self, key: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        try:
            downloader = self.container.download_blob(key, max_concurrency=1)
        except ResourceNotFoundError:
            raise ObjectNotFound(key) from None
        except AzureError as exc:
            raise StorageError(f"get {key}: {exc}") from exc
        return self._chunks(downloader, chunk_size)

    @staticmethod
    def _chunks(downloader: Any, chunk_size: int) -> Iterator[bytes]:
        while chunk := downloader.read(chunk_size):
            yield chunk

    def stat(self, key: str) -> ObjectInfo:
        try:
            props = self.container.get_blob_client(key).get_blob_properties()
        except ResourceNotFoundError:
            raise ObjectNotFound(key) from None
        except AzureError as exc:
            raise StorageError(f"stat {key}: {exc}") from exc
        return self._info(props)

    @staticmethod
    def _info(props: Any) -> ObjectInfo:
        settings = props.content_settings
        return ObjectInfo(
            key=props.name,
            size=props.size,
            content_type=settings.content_type if settings else None,
            last_modified=props.last_modified,
            etag=(props.etag or "").strip('"'),
            metadata=dict(props.metadata or {}),
        )

    def exists(self, key: str) -> bool:
        return self.container.get_blob_client(key).exists()

    def delete(self, key: str) -> bool:
        try:
            self.container.delete_blob(key)
        except ResourceNotFoundError:
            return False
        except AzureError as exc:
            raise StorageError(f"delete {key}: {exc}") from exc
        return True

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        try:
            for props in self.container.list_blobs(name_starts_with=prefix or None, include=["metadata"]):
                yield self._info(props)
        except AzureError as exc:
            raise StorageError(f"list {prefix!r}: {exc}") from exc

    def _sas_url(self, key: str, permission: BlobSasPermissions, expires_in: int) -> str:
        credential = self.service.credential
        account_key = getattr(credential, "account_key", None)
        account_name = self.service.account_name
        if not account_key or not account_name:
            raise NotSupported("presigned URLs need the account key in AZURE_STORAGE_CONNECTION_STRING")
        blob = self.container.get_blob_client(key)
        token = generate_blob_sas(
            account_name=account_name,
            container_name=self.container_name,
            blob_name=key,
            account_key=account_key,
            permission=permission,
            expiry=datetime.now(UTC) + timedelta(seconds=expires_in),
            start=datetime.now(UTC) - timedelta(minutes=5),
        )
        return f"{blob.url}?{token}"

    def presigned_download_url(self, key: str, *, expires_in: int = 3600) -> str:
        return self._sas_url(key, BlobSasPermissions(read=True), expires_in)

    def presigned_upload_url(self, key: str, *, expires_in: int = 3600, content_type: str | None = None) -> str:
        # The uploader sends `x-ms-blob-type: BlockBlob` with its PUT, as Azure requires.
        return self._sas_url(key, BlobSasPermissions(create=True, write=True), expires_in)
