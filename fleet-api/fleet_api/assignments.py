"""The assignment use cases: a driver takes a load, and the assignment is completed or cancelled.

Each runs the rules (domain/assignments.py), the writes, the load's history row and the outbox event in
one transaction; only after it commits is the loads cache invalidated. Every attempt is counted by
action and outcome (the HTTP status it ends in).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from servicekit import counter
from sqlalchemy import Connection

from .adapters.postgres import Row, UniqueViolation
from .domain import assignments as rules
from .domain.errors import Conflict, DomainError, NotFound
from .domain.events import LoadEventMessage
from .domain.models import AssignmentStatus, DriverStatus, LoadStatus
from .wiring import Dependencies

log = logging.getLogger("fleet_api.assignments")
outcomes = counter(
    "fleet_assignment_requests_total", "Assignment attempts and transitions by outcome", ["action", "outcome"]
)
rule_conflicts = counter("fleet_rule_conflicts_total", "Requests refused with 409, by the rule that refused", ["rule"])
# Known label values start at zero, so Prometheus' increase() counts the first of each too.
for _rule in Conflict.RULES:
    rule_conflicts.labels(_rule)
for _action, _success in (("assign", "201"), ("completed", "200"), ("cancelled", "200")):
    for _outcome in (_success, "409", "404", "error"):
        outcomes.labels(_action, _outcome)


@contextmanager
def _counted(action: str, success: str) -> Iterator[None]:
    try:
        yield
    except DomainError as exc:
        outcomes.labels(action, str(exc.status)).inc()
        if isinstance(exc, Conflict):
            rule_conflicts.labels(exc.rule).inc()
        raise
    except BaseException:
        outcomes.labels(action, "error").inc()
        raise
    outcomes.labels(action, success).inc()


def assign(deps: Dependencies, driver_id: UUID, load_id: UUID) -> Row:
    """The new assignment with its driver (ON_LOAD) and load (ASSIGNED); NotFound or Conflict otherwise."""
    repo = deps.repo
    with _counted("assign", "201"):
        try:
            with repo.transaction() as conn:
                driver = repo.driver(conn, driver_id)
                if driver is None:
                    raise NotFound(f"No driver with id {driver_id}.")
                load = repo.load(conn, load_id)
                if load is None:
                    raise NotFound(f"No load with id {load_id}.")
                # The early check gives the clear message; the unique indexes settle any race.
                rules.check_assignable(driver["status"], load["status"], False, False)
                assignment = repo.insert_assignment(conn, driver_id, load_id)
                # Conditional updates: a concurrent cancel or completion of the load loses to this one
                # or makes it fail, never a silent overwrite.
                load = repo.set_load_status(conn, load_id, LoadStatus.ASSIGNED, only_from=LoadStatus.OPEN)
                if load is None:
                    raise Conflict("The load is no longer open.", "load_not_open")
                driver = repo.set_driver_status(conn, driver_id, DriverStatus.ON_LOAD, only_from=DriverStatus.AVAILABLE)
                if driver is None:
                    raise Conflict("The driver is no longer available.", "driver_busy")
                event = rules.assignment_event(
                    AssignmentStatus.ASSIGNED, assignment, driver, load, assignment["assigned_at"]
                )
                _record(deps, conn, event)
        except UniqueViolation as exc:
            conflict = rules.conflict_for_constraint(exc.constraint)
            if conflict is None:
                raise
            raise conflict from None
    deps.cache.invalidate()
    log.info("assignment made", extra=_ids(assignment))
    return {**assignment, "driver": driver, "load": load}


def finish(deps: Dependencies, assignment_id: UUID, target: AssignmentStatus) -> Row:
    """Complete or cancel an ASSIGNED assignment; the driver is free again, the load closed or reopened."""
    repo = deps.repo
    with _counted(str(target).lower(), "200"):
        with repo.transaction() as conn:
            # Row lock: two concurrent transitions of one assignment run one after the other.
            assignment = repo.assignment(conn, assignment_id, for_update=True)
            if assignment is None:
                raise NotFound(f"No assignment with id {assignment_id}.")
            rules.check_transition(assignment["status"], target)
            column = "completed_at" if target == AssignmentStatus.COMPLETED else "cancelled_at"
            assignment = repo.close_assignment(conn, assignment_id, str(target), column)
            load = repo.set_load_status(conn, assignment["load_id"], str(rules.LOAD_STATUS_AFTER[target]))
            driver = repo.release_driver(conn, assignment["driver_id"])
            event = rules.assignment_event(target, assignment, driver, load, assignment[column])
            _record(deps, conn, event)
    deps.cache.invalidate()
    log.info("assignment %s", str(target).lower(), extra=_ids(assignment))
    return {**assignment, "driver": driver, "load": load}


def _ids(assignment: Row) -> dict[str, str]:
    """The log fields of an assignment's line (the request id comes with every line)."""
    return {
        "assignment_id": str(assignment["id"]),
        "driver_id": str(assignment["driver_id"]),
        "load_id": str(assignment["load_id"]),
    }


def _record(deps: Dependencies, conn: Connection, event: LoadEventMessage) -> None:
    """The load's history row and the outbox event, in the transaction of the change."""
    payload: dict[str, Any] = event.model_dump(mode="json")
    deps.repo.record_load_event(conn, event.load_id, event.type, payload)
    deps.write_event(conn, event)
