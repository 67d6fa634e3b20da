"""A day read back whole and checked against every promise of /assign (the history checker).

    flask --app dispatch_service dispatch check-day --date 2026-11-30

It reads the day's claim blocks and run markers (strongly consistent queries), every assignment item of the
day (the by_date_status index: eventually consistent on DynamoDB, so check once the writes have settled) and,
by key, every item the blocks name (consistent reads), then checks:

1. no package in two claim blocks, and no package with two assignment items that day;
2. no driver given more than its run's max_per_driver;
3. every assignment item of the day backed by the claim block that made it (same run, same driver, its run
   marked), and every package of a block with its item;
4. a completed run's marker counts what its blocks hold;
5. every answer given (run id and 200 body, when the caller has them) equal to the table: the run's packages
   per driver, in manifest order, and the day's packages that no block up to the run's completion holds.

The tests (in-process interleavings, the storm on the local stack) and `make bench` call it after their runs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..adapters.unit_of_work import DispatchUnitOfWork
from ..domain import claims
from .read_manifest import load_lists


@dataclass
class DayReport:
    day: str
    items: int = 0
    blocks: int = 0
    runs: int = 0
    answers: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        head = (
            f"{self.day}: {self.items} assignment items, {self.blocks} claim blocks, {self.runs} runs, "
            f"{self.answers} answers checked"
        )
        return head + (": every invariant holds" if self.ok else f": {len(self.problems)} problems")


def check_day(
    uow: DispatchUnitOfWork, day: str, answers: Iterable[tuple[str, dict]] = (), only_day_in_table: bool = False
) -> DayReport:
    """`only_day_in_table`: the table holds this day alone; stray items are then counted with DescribeTable's
    ItemCount (exact on the AWS twin, whose index queries walk the whole table per page; on DynamoDB the count
    is refreshed about every six hours) instead of listed through the index."""
    ledger = uow.ledger
    report = DayReport(day)
    problems = report.problems
    blocks = ledger.blocks(day)
    markers = {m.run_id: m for m in ledger.markers(day)}
    indexed = [] if only_day_in_table else ledger.day_items(day)
    report.blocks, report.runs = len(blocks), len(markers)

    claimed = Counter(p for b in blocks for p in b.packages)
    twice = sorted(p for p, n in claimed.items() if n > 1)
    if twice:
        problems.append(f"{len(twice)} packages in two claim blocks, e.g. {twice[:3]}")
    held_by = Counter(i["package_id"] for i in indexed)
    doubled = sorted(p for p, n in held_by.items() if n > 1)
    if doubled:
        problems.append(f"{len(doubled)} packages with two assignment items, e.g. {doubled[:3]}")

    per_driver = Counter((b.run_id, d) for b in blocks for d in b.drivers)
    for (run_id, driver), count in sorted(per_driver.items()):
        marker = markers.get(run_id)
        if marker is None:
            problems.append(f"claim blocks of run {run_id} without its run marker")
        elif count > marker.max_per_driver:
            problems.append(f"driver {driver} got {count} packages from run {run_id} (max {marker.max_per_driver})")

    named = {(d, p): b for b in blocks for p, d in zip(b.packages, b.drivers, strict=True)}
    stored = {
        (i["driver_id"], i["package_id"]): i
        for i in ledger.items(sorted(named), ("driver_id", "package_id", "run_id", "block"))
    }
    missing = sorted(set(named) - set(stored))
    if missing:
        problems.append(f"{len(missing)} claimed packages without their assignment item, e.g. {missing[:3]}")
    for key, item in stored.items():
        block = named[key]
        if item.get("run_id") != block.run_id or item.get("block") != block.key:
            problems.append(f"item {key} says run {item.get('run_id')} block {item.get('block')}, not {block.key}")
    stray = sorted({(i["driver_id"], i["package_id"]) for i in indexed} - set(named))
    if stray:
        problems.append(f"{len(stray)} assignment items of the day no claim block backs, e.g. {stray[:3]}")
    if only_day_in_table:
        others = ledger.item_count() - len(stored) - len(blocks) - len(markers) - len(ledger.lease_items(day))
        if others:
            problems.append(f"the table holds {others} items besides the day's items, blocks, runs and lease")
    report.items = len(set(stored) | {(i["driver_id"], i["package_id"]) for i in indexed})

    by_run: dict[str, int] = defaultdict(int)
    for b in blocks:
        by_run[b.run_id] += len(b.packages)
    for run_id, marker in markers.items():
        if marker.state == "complete" and marker.assigned != by_run.get(run_id, 0):
            problems.append(
                f"run {run_id} marked complete with {marker.assigned} assigned; its blocks hold {by_run[run_id]}"
            )

    answers = list(answers)
    if answers:
        package_ids = [p.package_id for p in load_lists(uow, day).manifest.packages]
        for run_id, body in answers:
            report.answers += 1
            marker = markers.get(run_id)
            if marker is None or marker.state != "complete":
                problems.append(f"run {run_id} answered 200 but is not marked complete")
                continue
            expected = claims.answer(list(body["assignments"]), package_ids, blocks, run_id, marker.token)
            if expected.model_dump() != body:
                differ = [d for d, got in body["assignments"].items() if expected.assignments.get(d) != got]
                problems.append(
                    f"the 200 answer of run {run_id} differs from the table (drivers {differ[:3]}, unassigned "
                    f"{len(body['unassigned_packages'])} vs {len(expected.unassigned_packages)})"
                )
    return report
