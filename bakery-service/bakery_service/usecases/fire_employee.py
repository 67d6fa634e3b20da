"""Fire an employee: their GitHub access is removed (through the outbox)."""

from __future__ import annotations

import logging

from servicekit.domain_errors import NotFound

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain.access import NO_ACCESS, access_changes

log = logging.getLogger("bakery_service.employees")


def fire_employee(uow: BakeryUnitOfWork, employee_id: int) -> None:
    with uow:
        row = uow.employees.get(employee_id, for_update=True)
        if row is None:
            raise NotFound(f"No employee has the id {employee_id}.")
        uow.employees.delete(employee_id)
        for action in access_changes(employee_id, (row["github_username"], row["developer"]), NO_ACCESS):
            uow.outbox.add(action)
        uow.commit()
    log.info("employee removed", extra={"employee_id": employee_id})
