"""POST /assign: the most packages the requested drivers may carry, each package to one driver, exactly once.

1. The day's lists (404 without them) and the drivers (422 naming unknown ones).
2. The run id: the Idempotency-Key header, else a hash of the day, the lists' version and the request. A run
   already complete is answered again from its claims, without assigning anything more.
3. The day's claims (consistent read): packages claimed by any run are not available; claims of this run
   from an earlier, interrupted attempt are kept and count against the drivers' capacity.
4. Maximum assignment (domain.matching) of the available packages; one claim per package is written, each
   only if no other run holds it (conditional puts, in parallel), and the claims are read back. Packages
   another run holds are dropped and the assignment is solved again for what is left (MAX_ROUNDS at most).
5. The assignment items (batched writes), the operational log object, then the run marker.

Runs of other requests cut short more than ABANDONED_RUN_SECONDS ago and never retried are completed on the
way (step 3), so their packages do not stay reserved without assignments.

Any AWS failure stops the request with 503 (Retry-After). Claims then exist without assignment items or
marker; the retried request (same body or the same Idempotency-Key) finds them in step 3 and completes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time

import numpy as np
from servicekit import ApiProblem, counter, histogram

from . import manifests
from .adapters.assignments_table import Claim
from .domain.matching import classify, maximum_assignment
from .domain.models import AssignRequest, AssignResponse
from .wiring import Dependencies

MAX_ROUNDS = 5
log = logging.getLogger("dispatch_service.assign")

_runs = counter("dispatch_assign_runs_total", "POST /assign runs by outcome", ["outcome"])
_assigned = counter("dispatch_packages_assigned_total", "Packages assigned by /assign")
_unassigned = counter(
    "dispatch_packages_unassigned_total", "Packages of the day no driver of a completed /assign run could take"
)
_conflicts = counter("dispatch_claim_conflicts_total", "Packages another run claimed first")
_abandoned = counter(
    "dispatch_abandoned_runs_completed_total", "Runs cut short and never retried, completed by another"
)
_seconds = histogram(
    "dispatch_assign_stage_seconds",
    "Time of each stage of /assign",
    ["stage"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# Known label values start at zero, so a dashboard shows 0 rather than nothing before the first run.
for _outcome in ("completed", "resumed", "replayed", "unknown_drivers"):
    _runs.labels(_outcome)
for _stage in ("load", "classify", "match", "claim", "write", "total"):
    _seconds.labels(_stage)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_id_for(request: AssignRequest, day: str, version: str, idempotency_key: str | None) -> str:
    if idempotency_key:
        return idempotency_key
    text = "|".join([day, version, str(request.max_per_driver), *request.driver_ids])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def assign(
    deps: Dependencies, request: AssignRequest, idempotency_key: str | None, request_id: str | None
) -> AssignResponse:
    day = (request.date or dt.datetime.now(dt.UTC).date()).isoformat()
    started = time.perf_counter()
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
    run_id = run_id_for(request, day, lists.version, idempotency_key)
    package_ids = [p.package_id for p in lists.manifest.packages]
    _seconds.labels("load").observe(time.perf_counter() - started)

    table = deps.assignments
    if table.run_complete(day, run_id):
        _runs.labels("replayed").inc()
        log.info("assign run replayed", extra={"day": day, "run_id": run_id})
        return _response(request, package_ids, table.claims(day), run_id)

    drivers = [lists.manifest.drivers[lists.driver_index[d]] for d in request.driver_ids]
    position = {d: i for i, d in enumerate(request.driver_ids)}
    tick = time.perf_counter()
    classes = classify([d.rules for d in drivers], lists.table)
    _seconds.labels("classify").observe(time.perf_counter() - tick)

    claims = table.claims(day)
    earlier = {p: c for p, c in claims.items() if c.run_id == run_id}
    own: dict[str, Claim] = dict(earlier)
    index_of = {p: i for i, p in enumerate(package_ids)}
    _complete_abandoned(deps, lists, index_of, claims, run_id, day)
    for _ in range(MAX_ROUNDS):
        tick = time.perf_counter()
        available = np.ones(len(package_ids), dtype=np.bool_)
        available[[index_of[p] for p in claims if p in index_of]] = False
        holders = [position[c.driver_id] for c in own.values() if c.driver_id in position]
        held = np.bincount(holders, minlength=len(drivers))
        capacity = [max(request.max_per_driver - int(h), 0) for h in held]
        chosen = maximum_assignment(classes, capacity, available)
        _seconds.labels("match").observe(time.perf_counter() - tick)
        at = now_iso()
        new = [
            Claim(package_ids[i], drivers[d].driver_id, run_id, at)
            for d, indices in enumerate(chosen)
            for i in indices.tolist()
        ]
        if not new:
            break
        tick = time.perf_counter()
        table.claim(day, new)
        # Ownership is what the table holds afterwards: read back, keep the packages whose claim is this run's.
        # On DynamoDB the conditional put already decides; the read-back also holds on emulators whose
        # conditional writes are not atomic under concurrent requests (moto's threaded server).
        claims = table.claims(day)
        own = {p: c for p, c in claims.items() if c.run_id == run_id}
        _seconds.labels("claim").observe(time.perf_counter() - tick)
        lost = [c for c in new if c.package_id not in own]
        if not lost:
            break
        _conflicts.inc(len(lost))

    tick = time.perf_counter()
    items = _items(lists, index_of, own, earlier, day, table)
    table.put_assignments(items)
    _seconds.labels("write").observe(time.perf_counter() - tick)
    in_order = sorted(own.values(), key=lambda c: (position.get(c.driver_id, 0), index_of.get(c.package_id, 0)))
    deps.files.write_log(day, "assign", run_id, _records(in_order, day, run_id, request_id))
    table.mark_run_complete(day, run_id, now_iso(), len(own))
    _assigned.inc(len(own) - len(earlier))
    _runs.labels("completed" if not earlier else "resumed").inc()
    _seconds.labels("total").observe(time.perf_counter() - started)
    response = _response(request, package_ids, {**claims, **own}, run_id)
    _unassigned.inc(len(response.unassigned_packages))
    log.info(
        "assign run finished",
        extra={"day": day, "run_id": run_id, "drivers": len(drivers), "assigned": len(own), "resumed": bool(earlier)},
    )
    return response


_completed_runs: set[tuple[str, str]] = set()


def _complete_abandoned(deps: Dependencies, lists, index_of, claims: dict[str, Claim], run_id: str, day: str) -> None:
    """Finish other runs cut short long ago (no run marker, newest claim older than ABANDONED_RUN_SECONDS):
    their claims become assignment items, as their own retry would have made them. Without this, the packages
    of a run whose client never retried would stay reserved all day with no assignment to show for them."""
    limit = deps.settings.abandoned_run_seconds
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=limit)).isoformat(timespec="milliseconds")
    runs: dict[str, dict[str, Claim]] = {}
    for package_id, claim in claims.items():
        if claim.run_id != run_id and (day, claim.run_id) not in _completed_runs:
            runs.setdefault(claim.run_id, {})[package_id] = claim
    for other, held in runs.items():
        if max(c.claimed_at for c in held.values()).replace("Z", "+00:00") > cutoff:
            continue  # still running, or its client may still retry
        if not deps.assignments.run_complete(day, other):
            deps.assignments.put_assignments(_items(lists, index_of, held, held, day, deps.assignments))
            deps.files.write_log(day, "assign", other, _records(held.values(), day, other, None))
            deps.assignments.mark_run_complete(day, other, now_iso(), len(held))
            _abandoned.inc()
        _completed_runs.add((day, other))


def _records(claims, day: str, run_id: str, request_id: str | None) -> list[dict]:
    return [
        {
            "event": "assigned",
            "day": day,
            "driver_id": c.driver_id,
            "package_id": c.package_id,
            "run_id": run_id,
            "at": c.claimed_at,
            "request_id": request_id,
        }
        for c in claims
    ]


def _items(lists, index_of, own: dict[str, Claim], earlier: dict[str, Claim], day: str, table) -> list[dict]:
    # Items of an interrupted attempt may exist already, and may have moved on (accepted...): never reset them.
    done: set[str] = set()
    by_driver: dict[str, list[str]] = {}
    for c in earlier.values():
        by_driver.setdefault(c.driver_id, []).append(c.package_id)
    for driver_id, packages in by_driver.items():
        done |= table.existing(driver_id, packages)
    items = []
    for c in own.values():
        if c.package_id in done or c.package_id not in index_of:
            continue  # written already, or not in these lists (replaced since): nothing to write from
        package = lists.manifest.packages[index_of[c.package_id]]
        items.append(
            {
                "driver_id": c.driver_id,
                "package_id": c.package_id,
                "status": "assigned",
                "assignment_date": day,
                "assigned_at": c.claimed_at,
                "updated_at": c.claimed_at,
                "destination": package.destination,
                "weight": package.weight,
                "volume": package.volume,
                "region": package.region,
                "run_id": c.run_id,
            }
        )
    return items


def _response(request: AssignRequest, package_ids: list[str], claims: dict[str, Claim], run_id: str) -> AssignResponse:
    assignments: dict[str, list[str]] = {d: [] for d in request.driver_ids}
    for package_id in package_ids:
        claim = claims.get(package_id)
        if claim is not None and claim.run_id == run_id and claim.driver_id in assignments:
            assignments[claim.driver_id].append(package_id)
    return AssignResponse(
        assignments=assignments,
        unassigned_packages=[p for p in package_ids if p not in claims],
        unassigned_drivers=[d for d, packages in assignments.items() if not packages],
    )
