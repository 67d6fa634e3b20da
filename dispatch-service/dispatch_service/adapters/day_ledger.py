"""The day's ledger in DeliveryAssignments: the lease that lets one /assign run write for a day at a time, the
claim blocks that record what each run took, and the run markers.

| item | `driver_id` | `package_id` | attributes |
| --- | --- | --- | --- |
| lease | `LEASE#<day>` | `lease` | `token` (fencing token, +1 per holder), `owner`, `run_id`, `expires_at` (ms) |
| fence lane | `LEASE#<day>` | `lane#<k>` | `token`: the holder's, written with the lease in one transaction |
| claim block | `CLAIM#<day>` | `<token, 12 digits>#<seq, 6 digits>` | `run_id`, `token`, `packages`, `drivers`, `at` |
| run marker | `RUN#<day>` | the run id | `fingerprint`, `state` (`running`, `complete`), `token`, `logged`, ... |

Everything a run writes is a `TransactWriteItems` (at most 100 actions) that carries a `ConditionCheck` that a
fence lane still holds the run's token: a holder whose lease was taken over cannot write, whatever its clock
or its pace says. A transaction of claims holds the block and the assignment items it lists, so a block
exists exactly when its items do. Concurrent transactions that touch one item conflict on DynamoDB
(TransactionConflict), so a run's parallel writers each check their own lane, and only the acquisition (one
transaction over the lease and every lane) touches them all. Lease renewals update the lease item alone.

`#` cannot occur in a driver id (the API refuses it), so these items never mix with a driver's.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from ..domain.claims import ClaimBlock
from . import table_schema
from .assignments_table import AssignmentsTable
from .aws import error_code, translated

LEASE_KEY = "lease"
# Every acquisition writes all of these, whatever this process's write concurrency, so that a holder configured
# with more writers than the next one can never find a lane the next acquisition left with its token.
FENCE_LANES = 16


def lease_partition(day: str) -> str:
    return f"LEASE#{day}"


def claim_partition(day: str) -> str:
    return f"CLAIM#{day}"


def run_partition(day: str) -> str:
    return f"RUN#{day}"


def block_key(token: int, seq: int) -> str:
    return f"{token:012d}#{seq:06d}"


@dataclass(frozen=True)
class Lease:
    day: str
    token: int
    owner: str
    run_id: str
    lanes: int
    took_over: bool = False  # the previous holder neither released it nor renewed it in time


@dataclass(frozen=True)
class Held:
    """Another run holds the day's lease until `expires_at` (ms since the epoch)."""

    run_id: str
    expires_at: int


@dataclass(frozen=True)
class RunMarker:
    run_id: str
    fingerprint: str
    state: str  # running | complete
    token: int  # the lease token of the attempt that last started or completed it
    logged: int  # claim blocks whose log records are written
    assigned: int
    max_per_driver: int


class LeaseLost(Exception):
    """A fenced write found another holder's token: this run must stop writing."""


class BlockMismatch(Exception):
    """A claim block exists under this run's key with other contents: the ledger is not what this run wrote."""


class _Conflict(Exception):
    """TransactionConflict: another transaction touched one of the items at the same moment; try again."""


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _dynamo(item: dict[str, Any]) -> dict[str, Any]:
    # The resource's client (boto3's high-level interface) serialises plain values; floats go as Decimal.
    return {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in item.items()}


def _reasons(exc: ClientError) -> list[str]:
    return [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]


class DayLedger:
    def __init__(self, table: AssignmentsTable, lanes: int):
        self.assignments = table
        self.client = table.client
        self.name = table.name
        self.lanes = max(1, min(lanes, FENCE_LANES))  # lanes this process writes through side by side

    # --- the lease ---------------------------------------------------------------------------------------

    def acquire(self, day: str, owner: str, run_id: str, now_ms: int, lease_ms: int) -> Lease | Held | None:
        """Take the day's lease if it is free or expired: a Lease (with the next fencing token), Held (someone
        holds it), or None (another caller took it at the same moment: look again)."""
        self.assignments.ensure()
        with translated("DynamoDB"):
            current = self.client.get_item(
                TableName=self.name,
                Key=_dynamo({"driver_id": lease_partition(day), "package_id": LEASE_KEY}),
                ConsistentRead=True,
            ).get("Item")
        lease = {k: _plain(v) for k, v in (current or {}).items()}
        if lease and int(lease["expires_at"]) > now_ms:
            return Held(str(lease["run_id"]), int(lease["expires_at"]))
        token = int(lease.get("token", 0)) + 1
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(package_id)"}
            if not lease
            else {
                "ConditionExpression": "#token = :seen AND expires_at <= :now",
                "ExpressionAttributeValues": _dynamo({":seen": token - 1, ":now": now_ms}),
            }
        )
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.name,
                    "Item": _dynamo(
                        {
                            "driver_id": lease_partition(day),
                            "package_id": LEASE_KEY,
                            "token": token,
                            "owner": owner,
                            "run_id": run_id,
                            "expires_at": now_ms + lease_ms,
                        }
                    ),
                    **({"ExpressionAttributeNames": {"#token": "token"}} if lease else {}),
                    **condition,
                }
            },
            *(
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": _dynamo({"driver_id": lease_partition(day), "package_id": f"lane#{k}", "token": token}),
                    }
                }
                for k in range(FENCE_LANES)
            ),
        ]
        try:
            with translated("DynamoDB"):
                self.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if error_code(exc) in ("TransactionCanceledException", "TransactionConflictException"):
                return None  # taken, renewed or contended meanwhile
            raise
        return Lease(day, token, owner, run_id, self.lanes, took_over=bool(lease) and int(lease["expires_at"]) > 0)

    def renew(self, lease: Lease, now_ms: int, lease_ms: int) -> bool:
        """Push the expiry out; False when the lease is no longer this holder's."""
        try:
            self._set_expiry(lease, now_ms + lease_ms)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            if error_code(exc) == "TransactionConflictException":
                return True  # an acquisition attempt at the same moment; the next renewal decides
            raise
        return True

    def release(self, lease: Lease) -> None:
        """Let the next run in at once (its expiry set to 0) if the lease is still this holder's."""
        try:
            self._set_expiry(lease, 0)
        except ClientError as exc:
            if error_code(exc) not in ("ConditionalCheckFailedException", "TransactionConflictException"):
                raise

    def _set_expiry(self, lease: Lease, expires_at_ms: int) -> None:
        """The lease item's expiry, on the condition that the lease still carries this holder's token."""
        with translated("DynamoDB"):
            self.client.update_item(
                TableName=self.name,
                Key=_dynamo({"driver_id": lease_partition(lease.day), "package_id": LEASE_KEY}),
                UpdateExpression="SET expires_at = :until",
                ConditionExpression="#token = :mine",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues=_dynamo({":until": expires_at_ms, ":mine": lease.token}),
            )

    # --- fenced writes -----------------------------------------------------------------------------------

    def _fence(self, lease: Lease, lane: int) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self.name,
                "Key": _dynamo({"driver_id": lease_partition(lease.day), "package_id": f"lane#{lane % lease.lanes}"}),
                "ConditionExpression": "#token = :mine",
                "ExpressionAttributeNames": {"#token": "token"},
                "ExpressionAttributeValues": _dynamo({":mine": lease.token}),
            }
        }

    @retry(
        retry=retry_if_exception_type(_Conflict),
        stop=stop_after_attempt(6),
        wait=wait_random_exponential(multiplier=0.05, max=1),
        reraise=True,
    )
    def _transact(self, actions: list[dict[str, Any]], token: str) -> list[str]:
        """TransactWriteItems; [] when it committed, else the cancellation reason of each action."""
        try:
            self.client.transact_write_items(TransactItems=actions, ClientRequestToken=token)
        except ClientError as exc:
            code, reasons = error_code(exc), _reasons(exc)
            # In progress: the same token's first attempt is still being applied (a resend after a timeout).
            if code in ("TransactionConflictException", "TransactionInProgressException") or (
                "TransactionConflict" in reasons
            ):
                raise _Conflict(str(exc)) from exc
            if code == "TransactionCanceledException":
                return reasons
            with translated("DynamoDB"):
                raise
        return []

    def start_run(self, lease: Lease, run_id: str, fingerprint: str, max_per_driver: int, at: str) -> RunMarker | None:
        """Mark the run as running under this lease; None when the marker holds another request's fingerprint."""
        actions = [
            self._fence(lease, 0),
            {
                "Update": {
                    "TableName": self.name,
                    "Key": _dynamo({"driver_id": run_partition(lease.day), "package_id": run_id}),
                    "UpdateExpression": (
                        "SET fingerprint = :fp, #state = :running, #token = :token, max_per_driver = :most, "
                        "started_at = if_not_exists(started_at, :at), logged = if_not_exists(logged, :zero), "
                        "assigned = if_not_exists(assigned, :zero)"
                    ),
                    "ConditionExpression": "attribute_not_exists(fingerprint) OR fingerprint = :fp",
                    "ExpressionAttributeNames": {"#state": "state", "#token": "token"},
                    "ExpressionAttributeValues": _dynamo(
                        {
                            ":fp": fingerprint,
                            ":running": "running",
                            ":token": lease.token,
                            ":most": max_per_driver,
                            ":at": at,
                            ":zero": 0,
                        }
                    ),
                }
            },
        ]
        reasons = self._transact(actions, _request_token("start", lease, run_id))
        if not reasons:
            return self.run(lease.day, run_id)
        if reasons[0] == "ConditionalCheckFailed":
            raise LeaseLost(lease.day)
        return None

    def write_block(self, lease: Lease, lane: int, block: ClaimBlock, items: Sequence[dict[str, Any]]) -> None:
        """One transaction: the lane's fence, the claim block (only if absent) and its assignment items. An item
        is written only here, with the block that names its package, and a package is in one block at most
        (blocks are read under the lease before any is written): so no item is ever written twice, and an item
        a driver has moved on (accepted, delivered...) is never reset. Sent again after an answer that was
        lost, the transaction finds its own block, is cancelled whole, and counts as done."""
        day = lease.day
        actions: list[dict[str, Any]] = [
            self._fence(lease, lane),
            {
                "Put": {
                    "TableName": self.name,
                    "Item": _dynamo(
                        {
                            "driver_id": claim_partition(day),
                            "package_id": block.key,
                            "run_id": block.run_id,
                            "token": block.token,
                            "packages": list(block.packages),
                            "drivers": list(block.drivers),
                            "at": block.at,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(package_id)",
                }
            },
            *({"Put": {"TableName": self.name, "Item": _dynamo(item)}} for item in items),
        ]
        reasons = self._transact(actions, _request_token("block", lease, block.key))
        if not reasons:
            return
        if reasons[0] == "ConditionalCheckFailed":
            raise LeaseLost(day)
        if reasons[1] == "ConditionalCheckFailed":
            stored = self.block(day, block.key)
            if stored is not None and stored.run_id == block.run_id and stored.packages == block.packages:
                return  # this very transaction committed before; its answer was lost
            raise BlockMismatch(block.key)
        raise BlockMismatch(f"{block.key}: {reasons}")

    def log_written(self, lease: Lease, run_id: str, blocks: int) -> None:
        self._update_marker(lease, run_id, "SET logged = :n", {":n": blocks})

    def complete_run(self, lease: Lease, run_id: str, at: str, assigned: int, blocks: int) -> None:
        self._update_marker(
            lease,
            run_id,
            "SET #state = :complete, completed_at = :at, assigned = :assigned, logged = :n, #token = :token",
            {":complete": "complete", ":at": at, ":assigned": assigned, ":n": blocks, ":token": lease.token},
        )

    def _update_marker(self, lease: Lease, run_id: str, expression: str, values: dict[str, Any]) -> None:
        actions = [
            self._fence(lease, 0),
            {
                "Update": {
                    "TableName": self.name,
                    "Key": _dynamo({"driver_id": run_partition(lease.day), "package_id": run_id}),
                    "UpdateExpression": expression,
                    "ConditionExpression": "attribute_exists(fingerprint)",
                    "ExpressionAttributeValues": _dynamo(values),
                    **(
                        {"ExpressionAttributeNames": {k: k[1:] for k in ("#state", "#token") if k in expression}}
                        if "#" in expression
                        else {}
                    ),
                }
            },
        ]
        digest = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:16]
        reasons = self._transact(actions, _request_token("marker", lease, f"{run_id}#{digest}"))
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise LeaseLost(lease.day)
        if reasons:
            raise BlockMismatch(f"run marker {run_id}: {reasons}")

    # --- reads (strongly consistent) -----------------------------------------------------------------------

    def _query(self, partition: str) -> list[dict[str, Any]]:
        self.assignments.ensure()
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("driver_id").eq(partition), "ConsistentRead": True}
        found: list[dict[str, Any]] = []
        with translated("DynamoDB"):
            while True:
                page = self.assignments.table.query(**kwargs)
                found += page["Items"]
                if "LastEvaluatedKey" not in page:
                    return found
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def blocks(self, day: str) -> list[ClaimBlock]:
        """Every claim block of the day, in the order of their tokens (the order the runs held the lease)."""
        return [_block(item) for item in self._query(claim_partition(day))]

    def block(self, day: str, key: str) -> ClaimBlock | None:
        with translated("DynamoDB"):
            item = self.assignments.table.get_item(
                Key={"driver_id": claim_partition(day), "package_id": key}, ConsistentRead=True
            ).get("Item")
        return _block(item) if item else None

    def day_items(self, day: str) -> list[dict[str, Any]]:
        """Every assignment item of the day, through the by_date_status index (eventually consistent)."""
        self.assignments.ensure()
        kwargs: dict[str, Any] = {
            "IndexName": table_schema.BY_DATE_STATUS,
            "KeyConditionExpression": Key("assignment_date").eq(day),
        }
        found: list[dict[str, Any]] = []
        with translated("DynamoDB"):
            while True:
                page = self.assignments.table.query(**kwargs)
                found += page["Items"]
                if "LastEvaluatedKey" not in page:
                    return found
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def items(self, keys: Sequence[tuple[str, str]], attributes: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The assignment items at these (driver, package) keys that exist (consistent BatchGetItem, 100 keys a
        call, 8 calls side by side), with only `attributes` when given."""
        wanted = [{"driver_id": d, "package_id": p} for d, p in keys]
        projection: dict[str, Any] = {}
        if attributes:
            names = {f"#a{i}": name for i, name in enumerate(attributes)}
            projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}

        def fetch(start: int) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            request: dict[str, Any] | None = {
                self.name: {"Keys": wanted[start : start + 100], "ConsistentRead": True, **projection}
            }
            while request:
                answer = self.assignments.resource.batch_get_item(RequestItems=request)
                found += answer["Responses"].get(self.name, [])
                request = answer.get("UnprocessedKeys") or None
            return found

        with translated("DynamoDB"), ThreadPoolExecutor(8) as pool:
            return [item for part in pool.map(fetch, range(0, len(wanted), 100)) for item in part]

    def lease_items(self, day: str) -> list[dict[str, Any]]:
        return self._query(lease_partition(day))

    def item_count(self) -> int:
        with translated("DynamoDB"):
            return int(self.client.describe_table(TableName=self.name)["Table"]["ItemCount"])

    def markers(self, day: str) -> list[RunMarker]:
        return [_marker(item) for item in self._query(run_partition(day))]

    def run(self, day: str, run_id: str) -> RunMarker | None:
        self.assignments.ensure()
        with translated("DynamoDB"):
            item = self.assignments.table.get_item(
                Key={"driver_id": run_partition(day), "package_id": run_id}, ConsistentRead=True
            ).get("Item")
        return _marker(item) if item else None


def _block(item: dict[str, Any]) -> ClaimBlock:
    return ClaimBlock(
        key=item["package_id"],
        run_id=item["run_id"],
        token=int(item["token"]),
        packages=tuple(item["packages"]),
        drivers=tuple(item["drivers"]),
        at=item["at"],
    )


def _marker(item: dict[str, Any]) -> RunMarker:
    return RunMarker(
        run_id=item["package_id"],
        fingerprint=item.get("fingerprint", ""),
        state=item.get("state", "running"),
        token=int(item.get("token", 0)),
        logged=int(item.get("logged", 0)),
        assigned=int(item.get("assigned", 0)),
        max_per_driver=int(item.get("max_per_driver", 0)),
    )


def _request_token(kind: str, lease: Lease, what: str) -> str:
    """ClientRequestToken: the same write of the same holder is the same token, so DynamoDB applies a resent
    transaction once (within its 10-minute window; past it, the conditions do)."""
    return hashlib.sha256(f"{kind}|{lease.day}|{lease.token}|{what}".encode()).hexdigest()[:36]


def now_ms() -> int:
    return int(time.time() * 1000)
