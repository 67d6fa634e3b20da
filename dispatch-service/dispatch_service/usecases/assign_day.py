"""POST /assign: the most packages the requested drivers may carry, each package to one driver, exactly once.

1. The day's lists (404 without them) and the drivers (422 naming unknown ones). The run id: the
   Idempotency-Key header, else a hash of the day, the lists' version and the request (domain.claims). The run
   marker, if any: another request under the same key is refused (422); a completed run is answered again as
   it was.
2. The day's lease (day_lease): one run writes for a day at a time. A call finding it held waits (bounded)
   and answers 409 with Retry-After past the bound; an identical call whose run completes meanwhile answers
   its result.
3. Under the lease: the run marker again (the fingerprint, written with the lease's fence), the day's claim
   blocks (a strongly consistent query: every block of an earlier holder is there, and no other writer can
   add one now), the logs of runs cut short by others, then the maximum assignment (domain.matching) of
   the packages no block holds, the drivers' capacity less what this run's own earlier attempts took.
4. The writes: one transaction per block of at most 98 packages (the lane's fence, the claim block, the
   assignment items of domain.claims), lanes side by side; then the operational log object and the completed
   marker.

Any AWS failure stops the request with 503 (Retry-After): what committed stays (blocks and items together,
never one without the other), and the same request retried resumes from it. A writer whose lease was taken
over finds its fence changed and writes nothing more; it waits for the lease again and resumes.
`checkpoint(step, run_id)` is called between the steps so that tests can pause a run at each of them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from servicekit.domain_errors import Conflict, DomainError, Invalid, Unavailable

from ..adapters.day_ledger import Lease, LeaseLost, RunMarker
from ..adapters.unit_of_work import DispatchUnitOfWork
from ..domain import claims
from ..domain.claims import ClaimBlock
from ..domain.day_lists import DayLists
from ..domain.matching import DayTooLarge, classify, maximum_assignment
from ..domain.models import AssignRequest, AssignResponse
from ..domain.times import iso_millis
from ..metrics import assign_runs, assign_stage_seconds, packages_assigned, packages_unassigned
from . import Clock, day_lease
from .day_lease import LeaseTerms
from .read_manifest import load_lists

LEASE_ATTEMPTS = 3  # a run whose lease was taken over waits for it again this many times in all
KEY_REUSED = "Idempotency-Key reused"
DAY_TOO_LARGE = "Day too large"
log = logging.getLogger("dispatch_service.assign")

#: Called between the steps of a run with (step, run id); tests pause runs there to interleave them.
Checkpoint = Callable[[str, str], None]


def no_checkpoint(step: str, run_id: str) -> None:
    return None


def key_reused(key: str, day: str) -> Invalid:
    return Invalid(
        f"Idempotency-Key {key} was used on {day} for another request (other drivers, max_per_driver or date); "
        "send a new key for a new request.",
        title=KEY_REUSED,
        errors=[{"loc": "header.Idempotency-Key", "msg": f"{key} belongs to another request", "type": "reused"}],
    )


def assign_day(
    uow: DispatchUnitOfWork,
    request: AssignRequest,
    idempotency_key: str | None,
    request_id: str | None,
    *,
    terms: LeaseTerms,
    memory_budget_bytes: int,
    clock: Clock,
    checkpoint: Checkpoint = no_checkpoint,
) -> AssignResponse:
    started = time.perf_counter()
    day = (request.date or clock().date()).isoformat()
    lists = load_lists(uow, day)
    unknown = lists.unknown_drivers(request.driver_ids)
    if unknown:
        assign_runs.labels("unknown_drivers").inc()
        raise Invalid(
            f"Not in the lists of {day}: {', '.join(unknown[:50])}",
            title="Unknown drivers",
            errors=[{"loc": "body.driver_ids", "msg": f"unknown driver {d}", "type": "unknown"} for d in unknown],
        )
    fingerprint = claims.fingerprint(day, request.driver_ids, request.max_per_driver)
    run = _Run(
        uow,
        request,
        lists,
        run_id=claims.run_id_for(day, lists.version, fingerprint, idempotency_key),
        fingerprint=fingerprint,
        key=idempotency_key,
        request_id=request_id,
        terms=terms,
        memory_budget_bytes=memory_budget_bytes,
        clock=clock,
        checkpoint=checkpoint,
    )
    assign_stage_seconds.labels("load").observe(time.perf_counter() - started)
    try:
        response = run.answer()
    except DomainError as refused:
        assign_runs.labels(_outcome_of(refused)).inc()
        raise
    assign_stage_seconds.labels("total").observe(time.perf_counter() - started)
    return response


def _outcome_of(refused: DomainError) -> str:
    if isinstance(refused, Conflict):
        return "busy"
    if refused.title == KEY_REUSED:
        return "key_reused"
    if refused.title == DAY_TOO_LARGE:
        return "too_large"
    return "unavailable"


class _Run:
    def __init__(
        self,
        uow: DispatchUnitOfWork,
        request: AssignRequest,
        lists: DayLists,
        *,
        run_id: str,
        fingerprint: str,
        key: str | None,
        request_id: str | None,
        terms: LeaseTerms,
        memory_budget_bytes: int,
        clock: Clock,
        checkpoint: Checkpoint,
    ):
        self.uow, self.request, self.lists, self.run_id = uow, request, lists, run_id
        self.day = lists.day
        self.ledger = uow.ledger
        self.fingerprint, self.key, self.request_id = fingerprint, key, request_id
        self.terms, self.memory_budget_bytes = terms, memory_budget_bytes
        self.clock, self.checkpoint = clock, checkpoint
        self.package_ids = [p.package_id for p in lists.manifest.packages]

    def step(self, name: str) -> None:
        self.checkpoint(name, self.run_id)

    def now(self) -> str:
        return iso_millis(self.clock())

    def _check(self, marker: RunMarker | None) -> None:
        if marker is not None and marker.fingerprint and marker.fingerprint != self.fingerprint:
            raise key_reused(self.key or self.run_id, self.day)

    def _finished(self) -> RunMarker | None:
        marker = self.ledger.run(self.day, self.run_id)
        self._check(marker)
        return marker if marker is not None and marker.state == "complete" else None

    def replay(self, marker: RunMarker) -> AssignResponse:
        assign_runs.labels("replayed").inc()
        log.info("assign run replayed", extra={"day": self.day, "run_id": self.run_id})
        blocks = self.ledger.blocks(self.day)
        return claims.answer(self.request.driver_ids, self.package_ids, blocks, self.run_id, marker.token)

    def answer(self) -> AssignResponse:
        done = self._finished()
        if done is not None:
            return self.replay(done)
        for _ in range(LEASE_ATTEMPTS):
            tick = time.perf_counter()
            with day_lease.held(
                self.ledger, self.terms, self.clock, self.day, self.run_id, lambda: self._finished() is not None
            ) as lease:
                assign_stage_seconds.labels("lease").observe(time.perf_counter() - tick)
                if lease is None:
                    finished = self._finished()
                    if finished is None:  # held() answers None only once the run is complete, for good
                        raise RuntimeError(f"run {self.run_id} was complete and is no longer")
                    return self.replay(finished)
                try:
                    return self._under(lease)
                except LeaseLost:
                    continue  # taken over while writing: wait for the lease again and resume
        raise Unavailable(
            f"The lease of {self.day} was taken over {LEASE_ATTEMPTS} times during this run; retry the same "
            "request (it resumes where this one stopped).",
            retry_after=1,
        )

    def _under(self, lease: Lease) -> AssignResponse:
        self.step("lease-acquired")
        done = self._finished()
        if done is not None:
            return self.replay(done)
        if self.ledger.start_run(lease, self.run_id, self.fingerprint, self.request.max_per_driver, self.now()) is None:
            raise key_reused(self.key or self.run_id, self.day)
        self.step("run-started")
        blocks = self.ledger.blocks(self.day)
        self.step("state-read")
        self._log_runs_cut_short(lease, blocks)
        own = [b for b in blocks if b.run_id == self.run_id]
        pairs = self._compute(blocks, own)
        self.step("computed")
        tick = time.perf_counter()
        new = claims.new_blocks(pairs, self.run_id, lease.token, self.now())
        self._write(lease, new)
        own += new
        with self.uow:
            self.uow.add_log(self.day, "assign", self.run_id, claims.log_records(self.day, own, self.request_id))
            self.uow.commit()
        self.step("log-written")
        assigned = sum(len(b.packages) for b in own)
        self.ledger.complete_run(lease, self.run_id, self.now(), assigned, len(own))
        self.step("completed")
        assign_stage_seconds.labels("write").observe(time.perf_counter() - tick)
        packages_assigned.inc(len(pairs))
        assign_runs.labels("resumed" if len(own) > len(new) else "completed").inc()
        response = claims.answer(self.request.driver_ids, self.package_ids, [*blocks, *new], self.run_id, lease.token)
        packages_unassigned.inc(len(response.unassigned_packages))
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
            classes = classify([d.rules for d in drivers], lists.table, self.memory_budget_bytes)
        except DayTooLarge as refused:
            raise Invalid(
                f"Assigning {len(self.package_ids):,} packages to {len(drivers):,} drivers needs about "
                f"{refused.needed / 2**20:,.0f} MiB ({refused.signatures:,} eligibility signatures), over the memory "
                f"budget of {refused.budget / 2**20:,.0f} MiB (ASSIGN_MEMORY_BUDGET_BYTES); send fewer drivers per "
                "request.",
                title=DAY_TOO_LARGE,
                errors=[{"loc": "body.driver_ids", "msg": "over the memory budget", "type": "too_large"}],
                budget_bytes=refused.budget,
            ) from None
        assign_stage_seconds.labels("classify").observe(time.perf_counter() - tick)
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
        assign_stage_seconds.labels("match").observe(time.perf_counter() - tick)
        return [
            (self.package_ids[i], drivers[d].driver_id) for d, indices in enumerate(chosen) for i in indices.tolist()
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
                    self.ledger.write_block(lease, k, block, claims.assignment_items(block, self.lists))
                except BaseException:
                    failed.set()
                    raise
                self.step("block-written")

        with ThreadPoolExecutor(lanes, thread_name_prefix="assign-lane") as pool:
            outcomes = [pool.submit(lane, k) for k in range(lanes)]
        errors = [error for error in (f.exception() for f in outcomes) if error is not None]
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
                with self.uow:
                    self.uow.add_log(self.day, "assign", marker.run_id, claims.log_records(self.day, mine, None))
                    self.uow.commit()
                self.ledger.log_written(lease, marker.run_id, len(mine))
