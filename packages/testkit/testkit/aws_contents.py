"""Everything a client can read back from an AWS endpoint's DynamoDB and S3, as one comparable value.

`contents(endpoint_url)` lists every table (its description, time-to-live, point-in-time recovery and tags,
every item, and what each global secondary index holds) and every bucket (versioning, tags, every version of
every object with its body's digest, metadata and content type, and the delete markers). Two endpoints, or one
before and after a restart, hold the same data exactly when their contents are equal.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

# Computed when asked, not stored: they change with the clock.
_NOW_FIELDS = ("EarliestRestorableDateTime", "LatestRestorableDateTime")


def _plain(value: Any) -> str:
    """Binary attributes as base64, datetimes as text."""
    return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)


def clients(endpoint_url: str) -> tuple[Any, Any]:
    options = {
        "endpoint_url": endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    return boto3.client("dynamodb", **options), boto3.client("s3", **options)


def _scan(dynamodb: Any, **kwargs: Any) -> list[str]:
    found = []
    for page in dynamodb.get_paginator("scan").paginate(**kwargs):
        found += [json.dumps(item, sort_keys=True, default=_plain) for item in page["Items"]]
    return sorted(found)


def table_contents(dynamodb: Any, name: str) -> dict[str, Any]:
    described = dynamodb.describe_table(TableName=name)["Table"]
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    for field in _NOW_FIELDS:
        backups.get("PointInTimeRecoveryDescription", {}).pop(field, None)
    return {
        "description": described,
        "time_to_live": dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
        "continuous_backups": backups,
        "tags": dynamodb.list_tags_of_resource(ResourceArn=described["TableArn"]).get("Tags", []),
        "items": _scan(dynamodb, TableName=name, ConsistentRead=True),
        "indexes": {
            index["IndexName"]: _scan(dynamodb, TableName=name, IndexName=index["IndexName"])
            for index in described.get("GlobalSecondaryIndexes", [])
        },
    }


def bucket_contents(s3: Any, name: str) -> dict[str, Any]:
    versions, markers = [], []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for version in page.get("Versions", []):
            got = s3.get_object(Bucket=name, Key=version["Key"], VersionId=version["VersionId"])
            versions.append(
                {
                    **{k: version[k] for k in ("Key", "VersionId", "ETag", "LastModified", "IsLatest", "Size")},
                    "sha256": hashlib.sha256(got["Body"].read()).hexdigest(),
                    "ContentType": got.get("ContentType"),
                    "Metadata": got.get("Metadata"),
                }
            )
        markers += [
            {k: m[k] for k in ("Key", "VersionId", "LastModified", "IsLatest")} for m in page.get("DeleteMarkers", [])
        ]
    try:
        tags = s3.get_bucket_tagging(Bucket=name)["TagSet"]
    except ClientError:
        tags = []
    return {
        "versioning": s3.get_bucket_versioning(Bucket=name).get("Status"),
        "tags": tags,
        "versions": versions,
        "delete_markers": markers,
    }


def contents(endpoint_url: str) -> dict[str, Any]:
    dynamodb, s3 = clients(endpoint_url)
    found = {
        "tables": {
            name: table_contents(dynamodb, name)
            for page in dynamodb.get_paginator("list_tables").paginate()
            for name in page["TableNames"]
        },
        "buckets": {
            bucket["Name"]: {"created": bucket["CreationDate"], **bucket_contents(s3, bucket["Name"])}
            for bucket in s3.list_buckets()["Buckets"]
        },
    }
    # One plain value (datetimes as text), so that two can be compared and a difference printed.
    plain: dict[str, Any] = json.loads(json.dumps(found, default=_plain, sort_keys=True))
    return plain
