"""P3: DynamoDB writes of one /assign, as /assign makes them (fenced TransactWriteItems of a claim block and its
98 items, 16 lanes side by side: DayLedger.write_block) against one PutItem per item, on the AWS twin; with a
bare BatchWriteItem (25 items a call, 16 writers) beside them for reference.

    .venv/bin/python bench/dispatch_dynamodb.py [--items 2000] [--rounds 2]   # bench/results/dispatch_dynamodb.md

Each round writes the same number of assignment items every way, into fresh tables, alternating the order;
the median throughput is reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import boto3
from benchkit import Figure, record  # bench/ is on the path of a script run from it
from dispatch_service.adapters import table_schema
from dispatch_service.adapters.assignments_table import AssignmentsTable
from dispatch_service.adapters.day_ledger import DayLedger, Lease, now_ms
from dispatch_service.domain.claims import ClaimBlock, cut
from testkit.servers import free_port, start_process, stop_process

RESULTS = Path(__file__).resolve().parent / "results" / "dispatch_dynamodb.md"
TARGET = 10.0
WRITERS = 16  # the service's default AWS_WRITE_CONCURRENCY


def items(count: int) -> list[dict]:
    return [
        {
            "driver_id": f"driver_{i % 50}",
            "package_id": str(uuid.UUID(int=i + 1)),
            "status": "assigned",
            "assignment_date": "2026-11-30",
            "assigned_at": "2026-11-30T07:00:00.000Z",
            "updated_at": "2026-11-30T07:00:00.000Z",
            "destination": f"{i} Main St, North District",
            "weight": 12.5,
            "volume": 40.0,
            "region": "north",
            "run_id": "bench",
        }
        for i in range(count)
    ]


def fresh_table(dynamodb) -> AssignmentsTable:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    table_schema.provision(dynamodb.meta.client, name)
    return AssignmentsTable(dynamodb, name)


def batched(dynamodb, rows: list[dict]) -> float:
    table = fresh_table(dynamodb)
    started = time.perf_counter()
    table.put_assignments(rows)
    return time.perf_counter() - started


def fenced(dynamodb, rows: list[dict]) -> float:
    """As /assign writes: the day's lease, then one transaction per claim block, WRITERS lanes side by side."""
    from concurrent.futures import ThreadPoolExecutor

    ledger = DayLedger(fresh_table(dynamodb), lanes=WRITERS)
    lease = ledger.acquire("2026-11-30", "bench", "bench", now_ms(), 600_000)
    assert isinstance(lease, Lease), lease
    by_key = {(r["package_id"], r["driver_id"]): r for r in rows}
    blocks = [
        ClaimBlock(
            f"{lease.token:012d}#{seq:06d}", "bench", lease.token, tuple(p for p, _ in c), tuple(d for _, d in c), "t"
        )
        for seq, c in enumerate(cut([(r["package_id"], r["driver_id"]) for r in rows]))
    ]
    started = time.perf_counter()

    def lane(k: int) -> None:
        for block in blocks[k::WRITERS]:
            ledger.write_block(
                lease, k, block, [by_key[pair] for pair in zip(block.packages, block.drivers, strict=True)]
            )

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(lane, range(WRITERS)))
    return time.perf_counter() - started


def single(dynamodb, rows: list[dict]) -> float:
    table = fresh_table(dynamodb)
    from decimal import Decimal

    started = time.perf_counter()
    for row in rows:
        table.table.put_item(Item={k: Decimal(str(v)) if isinstance(v, float) else v for k, v in row.items()})
    return time.perf_counter() - started


def single_parallel(dynamodb, rows: list[dict]) -> float:
    from concurrent.futures import ThreadPoolExecutor
    from decimal import Decimal

    table = fresh_table(dynamodb)
    client = table.client
    started = time.perf_counter()
    with ThreadPoolExecutor(WRITERS) as pool:
        list(
            pool.map(
                lambda row: client.put_item(
                    TableName=table.name,
                    Item={k: Decimal(str(v)) if isinstance(v, float) else v for k, v in row.items()},
                ),
                rows,
            )
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=int(os.environ.get("BENCH_ITEMS", "2000")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "2")))
    args = parser.parse_args()
    port = free_port()
    moto = start_process([sys.executable, "-m", "testkit.aws_twin", "-H", "127.0.0.1", "-p", str(port)], port=port)
    try:
        os.environ.update(
            {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
        )
        dynamodb = boto3.resource("dynamodb", endpoint_url=f"http://127.0.0.1:{port}")
        rows = items(args.items)
        times: dict = {fenced: [], batched: [], single: [], single_parallel: []}
        for round_number in range(args.rounds):
            order = list(times) if round_number % 2 == 0 else list(reversed(times))
            for fn in order:
                times[fn].append(fn(dynamodb, rows))
            print(f"round {round_number + 1}: " + ", ".join(f"{f.__name__} {t[-1]:.2f} s" for f, t in times.items()))
    finally:
        stop_process(moto)
    f, b, s, sp = (statistics.median(times[fn]) for fn in (fenced, batched, single, single_parallel))
    ratio = s / f
    lines = [
        "# dispatch: DynamoDB writes of one /assign, fenced transactions vs single puts (P3)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}, shared with other work), the AWS twin "
        f"on 127.0.0.1, {args.items:,} assignment items per run, {args.rounds} alternating rounds, median.",
        "",
        "| how | seconds | items/s |",
        "| --- | --- | --- |",
        f"| /assign's writes: TransactWriteItems of a claim block and 98 items, fenced, {WRITERS} lanes "
        f"(DayLedger.write_block) | {f:.2f} | {args.items / f:,.0f} |",
        f"| bare BatchWriteItem, 25 items a call, {WRITERS} writers, not conditional (put_assignments) | {b:.2f} | "
        f"{args.items / b:,.0f} |",
        f"| one PutItem per item, one after another | {s:.2f} | {args.items / s:,.0f} |",
        f"| one PutItem per item, {WRITERS} threads | {sp:.2f} | {args.items / sp:,.0f} |",
        "",
        f"/assign's fenced transactions write **{ratio:.1f}x** the items per second of single puts one after"
        f" another (target >= {TARGET:.0f}x): "
        + ("met" if ratio >= TARGET else f"missed by {TARGET - ratio:.2f}x")
        + f"; **{sp / f:.1f}x** single puts with the same number of threads; {f / b:.2f}x the time of the bare"
        " batch write.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    record(
        "dispatch_dynamodb",
        [
            Figure(
                "P3",
                f"DynamoDB writes of one /assign, fenced transactions of 98 items ({args.items:,} items, AWS twin)",
                round(args.items / f),
                "items/s",
                "one PutItem per item, one after another, items/s",
                round(args.items / s),
                f">= {TARGET:.0f}x single puts",
                ratio >= TARGET,
                "" if ratio >= TARGET else f"{ratio:.2f}x, missed by {TARGET - ratio:.2f}x",
            )
        ],
    )


if __name__ == "__main__":
    main()
