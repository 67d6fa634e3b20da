"""An ASSIGNED assignment is completed or cancelled: the driver is free again, the load closed (completed) or
back on the board (cancelled), with the load's history row and the outbox event in the same transaction; the
loads cache is invalidated once it commits. Counted like assign.py, under the action ``completed``/``cancelled``."""

from __future__ import annotations

from uuid import UUID

from servicekit.domain_errors import NotFound

from ..adapters.cache import LoadsCache
from ..adapters.postgres import Row
from ..adapters.unit_of_work import FleetUnitOfWork
from ..domain import assignment_rules as rules
from ..domain.models import AssignmentStatus
from ..metrics import counted_assignment
from .assign import log, log_fields, record


def finish(uow: FleetUnitOfWork, cache: LoadsCache, assignment_id: UUID, target: AssignmentStatus) -> Row:
    action = str(target).lower()
    with counted_assignment(action):
        with uow:
            # Row lock: two concurrent transitions of one assignment run one after the other.
            assignment = uow.assignments.get(assignment_id, for_update=True)
            if assignment is None:
                raise NotFound(f"No assignment with id {assignment_id}.")
            rules.check_transition(assignment["status"], target)
            column = "completed_at" if target == AssignmentStatus.COMPLETED else "cancelled_at"
            assignment = uow.assignments.close(assignment_id, str(target), column)
            load = uow.loads.set_status(assignment["load_id"], str(rules.LOAD_STATUS_AFTER[target]))
            if load is None:
                raise LookupError(f"the load of assignment {assignment_id} is gone")
            driver = uow.drivers.release(assignment["driver_id"])
            event = rules.assignment_event(target, assignment, driver, load, assignment[column])
            record(uow, event)
            uow.commit()
    cache.invalidate()
    log.info("assignment %s", action, extra=log_fields(assignment))
    return {**assignment, "driver": driver, "load": load}
