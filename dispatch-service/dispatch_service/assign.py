"""POST /assign: the most packages the requested drivers may carry, each package to one driver, exactly once.

1. The day's lists (404 without them) and the drivers (422 naming unknown ones). The run id: the
   Idempotency-Key header, else a hash of the day, the lists' version and the request. The run marker, if
   any: another request under the same key is refused (422); a completed run is answered again as it was.
2. The day's lease (day_lease): one run writes for a day at a time. A call finding it held waits (bounded)
   and answers 409 with Retry-After past the bound; an identical call whose run completes meanwhile answers
   its result.
3. Under the lease: the run marker again (the fingerprint, written with the lease's fence), the day's claim
   blocks (a strongly consistent query: every block of an earlier holder is there, and no other writer can
   add one now), the logs of runs cut short by others, then the maximum assignment (domain.matching) of
   the packages no block holds, the drivers' capacity less what this run's own earlier attempts took.
4. The writes: one transaction per block of at most 98 packages (the lane's fence, the claim block, the
   assignment items), lanes side by side; then the operational log object and the completed marker.

Any AWS failure stops the request with 503 (Retry-After): what committed stays (blocks and items together,
never one without the other), and the same request retried resumes from it. A writer whose lease was taken
over finds its fence changed and writes nothing more; it waits for the lease again and resumes.
`deps.checkpoint(step, run_id)` is called between the steps so that tests can pause a run at each of them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from servicekit import ApiProblem, counter, histogram

from . import day_lease, manifests
from .adapters.day_ledger import Lease, LeaseLost, RunMarker
from .domain import claims
from .domain.claims import ClaimBlock
from .domain.matching import DayTooLarge, classify, maximum_assignment
from .domain.models import AssignRequest, AssignResponse
from .manifests import DayLists
from .wiring import Dependencies

LEASE_ATTEMPTS = 3  # a run whose lease was taken over waits for it again this many times in all
log = logging.getLogger("dispatch_service.assign")

_runs = counter("dispatch_assign_runs_total", "POST /assign runs by outcome", ["outcome"])
_assigned = counter("dispatch_packages_assigned_total", "Packages assigned by /assign")
_unassigned = counter(
    "dispatch_packages_unassigned_total", "Packages of the day no driver of a completed /assign run could take"
)
_seconds = histogram(
    "dispatch_assign_stage_seconds",
    "Time of each stage of /assign",
    ["stage"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OUTCOMES = ("completed", "resumed", "replayed", "busy", "key_reused", "too_large", "unavailable", "unknown_drivers")
STAGES = ("load", "lease", "classify", "match", "write", "total")
# Known label values start at zero, so a dashboard shows 0 rather than nothing before the first run.
for _outcome in OUTCOMES:
    _runs.labels(_outcome)
for _stage in STAGES:
    _seconds.labels(_stage)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def key_reused(key: str, day: str) -> ApiProblem:
    return ApiProblem(
        422,
        "Idempotency-Key reused",
        f"Idempotency-Key {key} was used on {day} for another request (other drivers, max_per_driver or date); "
        "send a new key for a new request.",
        errors=[{"loc": "header.Idempotency-Key", "msg": f"{key} belongs to another request", "type": "reused"}],
    )


def assign(
    deps: Dependencies, request: AssignRequest, idempotency_key: str | None, request_id: str | None
) -> AssignResponse:
    started = time.perf_counter()
    day = (request.date or dt.datetime.now(dt.UTC).date()).isoformat()
    lists = manifests.load(deps, day)
    unknown = [d for d in request.driver_ids if d not in lists.driver_index]
    if unknown:
        _runs.labels("unknown_drivers").inc()
        raise ApiProblem(
            422,
            "Unknown drivers",
            f"Not in the lists of {day}: {', '.join(unknown[:50])}",
            errors=[{"loc": "body.driver_ids", "msg": f"unknown driver {d}", "type": "unknown"} for d in unknown],
        )
    fingerprint = claims.fingerprint(day, request.driver_ids, request.max_per_driver)
    run = _Run(deps, request, lists, claims.run_id_for(day, lists.version, fingerprint, idempotency_key))
    run.fingerprint, run.key, run.request_id = fingerprint, idempotency_key, request_id
    _seconds.labels("load").observe(time.perf_counter() - started)
    try:
        response = run.answer()
    except ApiProblem as problem:
        _runs.labels(_outcome_of(problem)).inc()
        raise
    _seconds.labels("total").observe(time.perf_counter() - started)
    return response


def _outcome_of(problem: ApiProblem) -> str:
    if problem.status == 409:
        return "busy"
    if problem.title == "Idempotency-Key reused":
        return "key_reused"
    if problem.title == "Day too large":
        return "too_large"
    return "unavailable"


class _Run:
    def __init__(self, deps: Dependencies, request: AssignRequest, lists: DayLists, run_id: str):
        self.deps, self.request, self.lists, self.run_id = deps, request, lists, run_id
        self.day = lists.day
        self.ledger = deps.ledger
        self.fingerprint = ""
        self.key: str | None = None
        self.request_id: str | None = None
        self.package_ids = [p.package_id for p in lists.manifest.packages]

    def step(self, name: str) -> None:
        self.deps.checkpoint(name, self.run_id)

    def _check(self, marker: RunMarker | None) -> None:
        if marker is not None and marker.fingerprint and marker.fingerprint != self.fingerprint:
            raise key_reused(self.key or self.run_id, self.day)

    def _finished(self) -> RunMarker | None:
        marker = self.ledger.run(self.day, self.run_id)
        self._check(marker)
        return marker if marker is not None and marker.state == "complete" else None

    def replay(self, marker: RunMarker) -> AssignResponse:
        _runs.labels("replayed").inc()
        log.info("assign run replayed", extra={"day": self.day, "run_id": self.run_id})
        blocks = self.ledger.blocks(self.day)
        return claims.answer(self.request.driver_ids, self.package_ids, blocks, self.run_id, marker.token)

    def answer(self) -> AssignResponse:
        done = self._finished()
        if done is not None:
            return self.replay(done)
        for _ in range(LEASE_ATTEMPTS):
            tick = time.perf_counter()
            with day_lease.held(self.deps, self.day, self.run_id, lambda: self._finished() is not None) as lease:
                _seconds.labels("lease").observe(time.perf_counter() - tick)
                if lease is None:
                    return self.replay(self._finished())
                try:
                    return self._under(lease)
                except LeaseLost:
                    continue  # taken over while writing: wait for the lease again and resume
        raise ApiProblem(
            503,
            "Service Unavailable",
            f"The lease of {self.day} was taken over {LEASE_ATTEMPTS} times during this run; retry the same "
            "request (it resumes where this one stopped).",
            headers={"Retry-After": "1"},
        )

    def _under(self, lease: Lease) -> AssignResponse:
        self.step("lease-acquired")
        done = self._finished()
        if done is not None:
            return self.replay(done)
        if self.ledger.start_run(lease, self.run_id, self.fingerprint, self.request.max_per_driver, now_iso()) is None:
            raise key_reused(self.key or self.run_id, self.day)
        self.step("run-started")
        blocks = self.ledger.blocks(self.day)
        self.step("state-read")
        self._log_runs_cut_short(lease, blocks)
        own = [b for b in blocks if b.run_id == self.run_id]
        pairs = self._compute(blocks, own)
        self.step("computed")
        tick = time.perf_counter()
        at = now_iso()
        new = [
            ClaimBlock(
                key=f"{lease.token:012d}#{seq:06d}",
                run_id=self.run_id,
                token=lease.token,
                packages=tuple(p for p, _ in chunk),
                drivers=tuple(d for _, d in chunk),
                at=at,
            )
            for seq, chunk in enumerate(claims.cut(pairs))
        ]
        self._write(lease, new)
        own += new
        self.deps.files.write_log(self.day, "assign", self.run_id, self._records(own, self.request_id))
        self.step("log-written")
        assigned = sum(len(b.packages) for b in own)
        self.ledger.complete_run(lease, self.run_id, now_iso(), assigned, len(own))
        self.step("completed")
        _seconds.labels("write").observe(time.perf_counter() - tick)
        _assigned.inc(len(pairs))
        _runs.labels("resumed" if len(own) > len(new) else "completed").inc()
        response = claims.answer(self.request.driver_ids, self.package_ids, [*blocks, *new], self.run_id, lease.token)
        _unassigned.inc(len(response.unassigned_packages))
        log.info(
            "assign run finished",
            extra={
                "day": self.day,
                "run_id": self.run_id,
                "drivers": len(self.request.driver_ids),
                "assigned": assigned,
                "resumed": len(own) > len(new),
            },
        )
        return response

    def _compute(self, blocks: Sequence[ClaimBlock], own: Sequence[ClaimBlock]) -> list[tuple[str, str]]:
        """(package, driver) pairs: the maximum assignment of what no block holds, in request then manifest order."""
        request, lists = self.request, self.lists
        drivers = [lists.manifest.drivers[lists.driver_index[d]] for d in request.driver_ids]
        tick = time.perf_counter()
        try:
            classes = classify([d.rules for d in drivers], lists.table, self.deps.settings.assign_memory_budget_bytes)
        except DayTooLarge as refused:
            raise ApiProblem(
                422,
                "Day too large",
                f"Assigning {len(self.package_ids):,} packages to {len(drivers):,} drivers needs about "
                f"{refused.needed / 2**20:,.0f} MiB ({refused.signatures:,} eligibility signatures), over the memory "
                f"budget of {refused.budget / 2**20:,.0f} MiB (ASSIGN_MEMORY_BUDGET_BYTES); send fewer drivers per "
                "request.",
                errors=[{"loc": "body.driver_ids", "msg": "over the memory budget", "type": "too_large"}],
                budget_bytes=refused.budget,
            ) from None
        _seconds.labels("classify").observe(time.perf_counter() - tick)
        tick = time.perf_counter()
        index_of = lists.package_index
        available = np.ones(len(self.package_ids), dtype=np.bool_)
        held = claims.holders(blocks)
        available[[index_of[p] for p in held if p in index_of]] = False
        position = {d: i for i, d in enumerate(request.driver_ids)}
        taken = np.bincount(
            [position[d] for b in own for d in b.drivers if d in position], minlength=len(drivers)
        ).astype(np.int64)
        capacity = [max(request.max_per_driver - int(t), 0) for t in taken]
        chosen = maximum_assignment(classes, capacity, available)
        _seconds.labels("match").observe(time.perf_counter() - tick)
        return [
            (self.package_ids[i], drivers[d].driver_id) for d, indices in enumerate(chosen) for i in indices.tolist()
        ]

    def _items(self, block: ClaimBlock) -> list[dict]:
        packages = self.lists.manifest.packages
        index_of = self.lists.package_index
        return [
            {
                "driver_id": driver_id,
                "package_id": package_id,
                "status": "assigned",
                "assignment_date": self.day,
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

    def _write(self, lease: Lease, blocks: Sequence[ClaimBlock]) -> None:
        """Each lane writes its blocks one after another (its fence item sees one transaction at a time); the
        lanes run side by side. The first failure stops the others before their next block."""
        lanes = min(lease.lanes, len(blocks))
        if lanes == 0:
            return
        failed = threading.Event()

        def lane(k: int) -> None:
            for block in blocks[k::lanes]:
                if failed.is_set():
                    return
                try:
                    self.ledger.write_block(lease, k, block, self._items(block))
                except BaseException:
                    failed.set()
                    raise
                self.step("block-written")

        with ThreadPoolExecutor(lanes, thread_name_prefix="assign-lane") as pool:
            outcomes = [pool.submit(lane, k) for k in range(lanes)]
        errors = [f.exception() for f in outcomes if f.exception() is not None]
        lost = [e for e in errors if isinstance(e, LeaseLost)]
        if lost or errors:
            raise (lost or errors)[0]

    def _log_runs_cut_short(self, lease: Lease, blocks: Sequence[ClaimBlock]) -> None:
        """Runs of other requests cut short (503, a killed worker) keep their blocks and items; their log records
        are written here, so that every assignment item has its record even if that request never returns."""
        by_run: dict[str, list[ClaimBlock]] = {}
        for block in blocks:
            by_run.setdefault(block.run_id, []).append(block)
        for marker in self.ledger.markers(self.day):
            mine = by_run.get(marker.run_id, [])
            if marker.run_id != self.run_id and marker.state == "running" and len(mine) > marker.logged:
                self.deps.files.write_log(self.day, "assign", marker.run_id, self._records(mine, None))
                self.ledger.log_written(lease, marker.run_id, len(mine))

    def _records(self, blocks: Sequence[ClaimBlock], request_id: str | None) -> list[dict]:
        return [
            {
                "event": "assigned",
                "day": self.day,
                "driver_id": driver_id,
                "package_id": package_id,
                "run_id": block.run_id,
                "at": block.at,
                "request_id": request_id,
            }
            for block in blocks
            for package_id, driver_id in zip(block.packages, block.drivers, strict=True)
        ]
