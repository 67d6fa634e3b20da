"""S3 provider (boto3) for any S3 endpoint: AWS, LocalStack, moto (`AWS_ENDPOINT_URL`).

Credentials and region come from boto3's usual chain (environment, profile, instance role).
User metadata is stored as S3 object metadata (`x-amz-meta-*`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ObjectNotFound, StorageError
from ..settings import StorageSettings
from ..spi import CHUNK_SIZE, Data, ObjectInfo, StorageProvider

_MISSING = {"404", "NoSuchKey", "NotFound"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Provider(StorageProvider):
    name = "s3"

    def __init__(self, bucket: str, *, client: Any = None, endpoint_url: str | None = None, region: str | None = None):
        self.bucket = bucket
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            # Path-style addressing works on every endpoint (LocalStack, moto, MinIO) and on AWS.
            config=Config(
                s3={"addressing_style": "path"},
                retries={"mode": "standard", "max_attempts": 5},
                signature_version="s3v4",
            ),
        )

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> S3Provider:
        return cls(settings.bucket, endpoint_url=settings.aws_endpoint_url, region=settings.aws_region)

    def provision(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in _MISSING | {"NoSuchBucket"}:
                raise StorageError(f"bucket {self.bucket}: {exc}") from exc
        region = self.client.meta.region_name
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**kwargs)
        except ClientError as exc:
            if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise StorageError(f"cannot create bucket {self.bucket}: {exc}") from exc

    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)

    def put(
        self, key: str, data: Data, *, content_type: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        extra: dict[str, Any] = {"ContentType": content_type or "application/octet-stream"}
        if metadata:
            extra["Metadata"] = dict(metadata)
        try:
            if isinstance(data, bytes | bytearray | memoryview):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(data), **extra)
            else:
                # Multipart for large streams, in parts, without reading the whole file into memory.
                self.client.upload_fileobj(data, self.bucket, key, ExtraArgs=extra)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"put {key}: {exc}") from exc
        return self.stat(key)

    def open(self, key: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectNotFound(key) from None
            raise StorageError(f"get {key}: {exc}") from exc
        return self._chunks(response["Body"], chunk_size)

    @staticmethod
    def _chunks(body: Any, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def stat(self, key: str) -> ObjectInfo:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectNotFound(key) from None
            raise StorageError(f"stat {key}: {exc}") from exc
        return ObjectInfo(
            key=key,
            size=head["ContentLength"],
            content_type=head.get("ContentType"),
            last_modified=head.get("LastModified"),
            etag=(head.get("ETag") or "").strip('"'),
            metadata=head.get("Metadata") or {},
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> bool:
        # S3 answers 204 whether or not the key existed; a HEAD first tells the caller which.
        existed = self.exists(key)
        if existed:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                raise StorageError(f"delete {key}: {exc}") from exc
        return existed

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    # Listing does not return content types; `stat` does, one request per object.
                    yield ObjectInfo(
                        key=item["Key"],
                        size=item["Size"],
                        last_modified=item.get("LastModified"),
                        etag=(item.get("ETag") or "").strip('"'),
                    )
        except ClientError as exc:
            raise StorageError(f"list {prefix!r}: {exc}") from exc

    def presigned_download_url(self, key: str, *, expires_in: int = 3600) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    def presigned_upload_url(self, key: str, *, expires_in: int = 3600, content_type: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if content_type:
            params["ContentType"] = content_type
        url: str = self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)
        return url
