"""What a run's claims say, with no I/O: how a request is fingerprinted and its run named, how its packages are
cut into claim blocks (one per transaction), the assignment items and log records a block stands for, who holds
each package according to the day's blocks, and the answer of a run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .day_lists import DayLists
from .models import AssignResponse

# One transaction: the lease fence, the claim block and at most 98 assignment items (DynamoDB: 100 actions).
BLOCK_SIZE = 98


@dataclass(frozen=True)
class ClaimBlock:
    """One transaction's claims: package `packages[i]` to driver `drivers[i]`, by run `run_id` holding the
    day's lease under `token`."""

    key: str
    run_id: str
    token: int
    packages: tuple[str, ...]
    drivers: tuple[str, ...]
    at: str


def fingerprint(day: str, driver_ids: Sequence[str], max_per_driver: int) -> str:
    """The request as the run marker records it: the same Idempotency-Key with another body is refused."""
    body = json.dumps({"date": day, "driver_ids": list(driver_ids), "max_per_driver": max_per_driver})
    return hashlib.sha256(body.encode()).hexdigest()


def run_id_for(day: str, version: str, request_fingerprint: str, idempotency_key: str | None) -> str:
    """The Idempotency-Key, or else the day, the lists' version and the request."""
    if idempotency_key:
        return idempotency_key
    return hashlib.sha256(f"{day}|{version}|{request_fingerprint}".encode()).hexdigest()[:32]


def cut(pairs: Sequence[tuple[str, str]], size: int = BLOCK_SIZE) -> list[list[tuple[str, str]]]:
    """(package, driver) pairs in blocks of at most `size`, in the order given."""
    return [list(pairs[i : i + size]) for i in range(0, len(pairs), size)]


def new_blocks(pairs: Sequence[tuple[str, str]], run_id: str, token: int, at: str) -> list[ClaimBlock]:
    """The blocks of a run holding the lease under `token`, keyed so that they sort by token, then in order."""
    return [
        ClaimBlock(
            key=f"{token:012d}#{seq:06d}",
            run_id=run_id,
            token=token,
            packages=tuple(p for p, _ in chunk),
            drivers=tuple(d for _, d in chunk),
            at=at,
        )
        for seq, chunk in enumerate(cut(pairs))
    ]


def assignment_items(block: ClaimBlock, lists: DayLists) -> list[dict]:
    """The DeliveryAssignments items a block stands for: one per package, written in the block's transaction."""
    packages = lists.manifest.packages
    index_of = lists.package_index
    return [
        {
            "driver_id": driver_id,
            "package_id": package_id,
            "status": "assigned",
            "assignment_date": lists.day,
            "assigned_at": block.at,
            "updated_at": block.at,
            "destination": packages[index_of[package_id]].destination,
            "weight": packages[index_of[package_id]].weight,
            "volume": packages[index_of[package_id]].volume,
            "region": packages[index_of[package_id]].region,
            "run_id": block.run_id,
            "block": block.key,
        }
        for package_id, driver_id in zip(block.packages, block.drivers, strict=True)
    ]


def log_records(day: str, blocks: Iterable[ClaimBlock], request_id: str | None) -> list[dict]:
    """The operational log's records of these blocks: one line per assignment."""
    return [
        {
            "event": "assigned",
            "day": day,
            "driver_id": driver_id,
            "package_id": package_id,
            "run_id": block.run_id,
            "at": block.at,
            "request_id": request_id,
        }
        for block in blocks
        for package_id, driver_id in zip(block.packages, block.drivers, strict=True)
    ]


def holders(blocks: Iterable[ClaimBlock]) -> dict[str, tuple[str, str]]:
    """package -> (driver, run id) for every claimed package of these blocks."""
    held: dict[str, tuple[str, str]] = {}
    for block in blocks:
        for package_id, driver_id in zip(block.packages, block.drivers, strict=True):
            held[package_id] = (driver_id, block.run_id)
    return held


def answer(
    driver_ids: Sequence[str], package_ids: Sequence[str], blocks: Iterable[ClaimBlock], run_id: str, upto_token: int
) -> AssignResponse:
    """The run's answer from the day's blocks as they stood when it completed: every block of a token up to
    the run's own (tokens grow with each holder of the day's lease, and a holder's writes all precede the
    next holder's), so an identical call made later answers the same."""
    held = holders(b for b in blocks if b.token <= upto_token)
    assignments: dict[str, list[str]] = {d: [] for d in driver_ids}
    for package_id in package_ids:
        holder = held.get(package_id)
        if holder is not None and holder[1] == run_id and holder[0] in assignments:
            assignments[holder[0]].append(package_id)
    return AssignResponse(
        assignments=assignments,
        unassigned_packages=[p for p in package_ids if p not in held],
        unassigned_drivers=[d for d, packages in assignments.items() if not packages],
    )
