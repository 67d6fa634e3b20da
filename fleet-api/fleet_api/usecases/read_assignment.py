"""One assignment with its driver and load, read in one transaction."""

from __future__ import annotations

from uuid import UUID

from servicekit.domain_errors import NotFound

from ..adapters.postgres import Row
from ..adapters.unit_of_work import FleetUnitOfWork


def read_assignment(uow: FleetUnitOfWork, assignment_id: UUID) -> Row:
    with uow:
        assignment = uow.assignments.get(assignment_id)
        if assignment is None:
            raise NotFound(f"No assignment with id {assignment_id}.")
        driver = uow.drivers.get(assignment["driver_id"])
        load = uow.loads.get(assignment["load_id"])
    return {**assignment, "driver": driver, "load": load}
