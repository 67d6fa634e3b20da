"""DeliveryAssignments in DynamoDB: the table itself, status updates and pages of assignments.

An assignment item has `driver_id` = the driver, `package_id` = the package, and status, day, destination,
weight, volume, region, times and the run (and claim block) that made it. /assign writes them through the
day's ledger (day_ledger.py: the lease, the claim blocks, the run markers share the table in partitions of
their own); `put_assignments` is the plain batched write, kept as the baseline the benchmarks compare with.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.table import BatchWriter
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from . import table_schema
from .aws import error_code, translated


class ItemNotFound(Exception):
    pass


class TransitionRefused(Exception):
    def __init__(self, current: str):
        super().__init__(current)
        self.current = current


class InvalidCursor(ValueError):
    pass


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, Decimal) else v) for k, v in item.items()}


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(_plain(key), sort_keys=True).encode()).decode()


def decode_cursor(cursor: str | None, expected_keys: set[str]) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("cursor is not one this service issued") from exc
    if not isinstance(key, dict) or set(key) != expected_keys or not all(isinstance(v, str) for v in key.values()):
        raise InvalidCursor("cursor does not belong to this query")
    return key


class AssignmentsTable:
    def __init__(self, dynamodb: Any, table_name: str, *, provision: bool = False, write_concurrency: int = 16):
        self.resource = dynamodb
        self.table = dynamodb.Table(table_name)
        self.client = dynamodb.meta.client
        self.name = table_name
        self._provision = provision
        self.write_concurrency = write_concurrency
        self._provisioned = threading.Event()

    def ensure(self) -> None:
        """On an emulator, create the table the first time it is needed (Terraform does it on AWS)."""
        if not self._provision or self._provisioned.is_set():
            return
        with translated("DynamoDB"):
            table_schema.provision(self.client, self.name)
        self._provisioned.set()

    def close(self) -> None:
        self.client.close()

    # --- assignments -----------------------------------------------------------------------------------

    def put_assignments(self, items: Iterable[dict[str, Any]]) -> int:
        """Batched writes: BatchWriteItem of 25 items a call (unprocessed items resent by boto3's BatchWriter),
        `write_concurrency` writers side by side. Not conditional: the benchmarks' baseline, not /assign's path."""
        self.ensure()
        rows = [{k: (Decimal(str(v)) if isinstance(v, float) else v) for k, v in item.items()} for item in items]
        if not rows:
            return 0
        writers = max(1, min(self.write_concurrency, len(rows) // 25))
        slices = [rows[i::writers] for i in range(writers)]

        def write(part: list[dict[str, Any]]) -> None:
            # The resource's client is thread-safe and serialises plain values; one BatchWriter per thread.
            with BatchWriter(self.name, self.client, overwrite_by_pkeys=["driver_id", "package_id"]) as batch:
                for row in part:
                    batch.put_item(Item=row)

        with translated("DynamoDB"), ThreadPoolExecutor(writers) as pool:
            list(pool.map(write, slices))
        return len(rows)

    def update_status(self, driver_id: str, package_id: str, status: str, sources: list[str], at: str) -> dict:
        """Conditional update, never an upsert: ItemNotFound or TransitionRefused(current) when refused."""
        self.ensure()
        values = {":status": status, ":at": at, **{f":s{i}": s for i, s in enumerate(sources)}}
        try:
            with translated("DynamoDB"):
                answer = self.table.update_item(
                    Key={"driver_id": driver_id, "package_id": package_id},
                    UpdateExpression="SET #status = :status, updated_at = :at",
                    ConditionExpression=(
                        "attribute_exists(package_id) AND attribute_exists(assignment_date) AND #status IN ("
                        + ", ".join(f":s{i}" for i in range(len(sources)))
                        + ")"
                    ),
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_OLD",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            old = exc.response.get("Item")
            if old is not None:
                # Error responses are not deserialised by the resource layer: plain values by hand.
                old = {k: TypeDeserializer().deserialize(v) for k, v in old.items()}
            else:
                with translated("DynamoDB"):
                    old = self.table.get_item(
                        Key={"driver_id": driver_id, "package_id": package_id}, ConsistentRead=True
                    ).get("Item")
            if not old or "assignment_date" not in old:
                raise ItemNotFound(package_id) from None
            raise TransitionRefused(str(old["status"])) from None
        return {**_plain(answer["Attributes"]), "status": status, "updated_at": at}

    def page(
        self, *, driver_id: str | None, day: str | None, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of assignments: by driver (base table), by day (index), or a scan when neither is given."""
        self.ensure()
        kwargs: dict[str, Any] = {"Limit": limit}
        filters = [Attr("assignment_date").exists()]
        if driver_id is not None:
            kwargs["KeyConditionExpression"] = Key("driver_id").eq(driver_id)
            keys = {"driver_id", "package_id"}
            if day is not None:
                filters.append(Attr("assignment_date").eq(day))
            if status is not None:
                filters.append(Attr("status").eq(status))
        elif day is not None:
            kwargs["IndexName"] = table_schema.BY_DATE_STATUS
            condition = Key("assignment_date").eq(day)
            kwargs["KeyConditionExpression"] = condition & Key("status").eq(status) if status else condition
            keys = {"driver_id", "package_id", "assignment_date", "status"}
        else:
            keys = {"driver_id", "package_id"}
            if status is not None:
                filters.append(Attr("status").eq(status))
        start = decode_cursor(cursor, keys)
        if start:
            kwargs["ExclusiveStartKey"] = start
        condition = filters[0]
        for extra in filters[1:]:
            condition = condition & extra
        kwargs["FilterExpression"] = condition
        with translated("DynamoDB"):
            try:
                answer = self.table.query(**kwargs) if "KeyConditionExpression" in kwargs else self.table.scan(**kwargs)
            except ClientError as exc:
                if error_code(exc) == "ValidationException" and start:
                    raise InvalidCursor("cursor does not belong to this query") from exc
                raise
        return [_plain(i) for i in answer["Items"]], encode_cursor(answer.get("LastEvaluatedKey"))
