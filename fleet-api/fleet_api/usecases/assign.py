"""A driver takes a load: the rules (domain/assignment_rules.py), the writes, the load's history row and the
outbox event in one transaction; only after it commits is the loads cache invalidated. Every attempt is counted
(``fleet_assignment_requests_total``, and each refusal's rule in ``fleet_rule_conflicts_total``)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from servicekit.domain_errors import Conflict, NotFound

from ..adapters.cache import LoadsCache
from ..adapters.postgres import Row, UniqueViolation
from ..adapters.unit_of_work import FleetUnitOfWork
from ..domain import assignment_rules as rules
from ..domain.events import LoadEventMessage
from ..domain.models import AssignmentStatus, DriverStatus, LoadStatus
from ..metrics import counted_assignment

# The logger of every assignment line (made, completed, cancelled), which log searches name.
log = logging.getLogger("fleet_api.assignments")


def assign(uow: FleetUnitOfWork, cache: LoadsCache, driver_id: UUID, load_id: UUID) -> Row:
    """The new assignment with its driver (ON_LOAD) and load (ASSIGNED); NotFound or Conflict otherwise."""
    with counted_assignment("assign"):
        try:
            with uow:
                driver = uow.drivers.get(driver_id)
                if driver is None:
                    raise NotFound(f"No driver with id {driver_id}.")
                load = uow.loads.get(load_id)
                if load is None:
                    raise NotFound(f"No load with id {load_id}.")
                # The early check gives the clear message; the unique indexes settle any race.
                rules.check_assignable(driver["status"], load["status"], False, False)
                assignment = uow.assignments.insert(driver_id, load_id)
                # Conditional updates: a concurrent cancel or completion of the load loses to this one
                # or makes it fail, never a silent overwrite.
                load = uow.loads.set_status(load_id, LoadStatus.ASSIGNED, only_from=LoadStatus.OPEN)
                if load is None:
                    raise Conflict("The load is no longer open.", code=rules.LOAD_NOT_OPEN)
                driver = uow.drivers.set_status(driver_id, DriverStatus.ON_LOAD, only_from=DriverStatus.AVAILABLE)
                if driver is None:
                    raise Conflict("The driver is no longer available.", code=rules.DRIVER_BUSY)
                event = rules.assignment_event(
                    AssignmentStatus.ASSIGNED, assignment, driver, load, assignment["assigned_at"]
                )
                record(uow, event)
                uow.commit()
        except UniqueViolation as exc:
            conflict = rules.conflict_for_constraint(exc.constraint)
            if conflict is None:
                raise
            raise conflict from None
    cache.invalidate()
    log.info("assignment made", extra=log_fields(assignment))
    return {**assignment, "driver": driver, "load": load}


def record(uow: FleetUnitOfWork, event: LoadEventMessage) -> None:
    """The load's history row and the outbox event, in the transaction of the change."""
    payload: dict[str, Any] = event.model_dump(mode="json")
    uow.loads.record_event(event.load_id, event.type, payload)
    uow.outbox.add(event)


def log_fields(assignment: Row) -> dict[str, str]:
    """The log fields of an assignment's line (the request id comes with every line)."""
    return {
        "assignment_id": str(assignment["id"]),
        "driver_id": str(assignment["driver_id"]),
        "load_id": str(assignment["load_id"]),
    }
