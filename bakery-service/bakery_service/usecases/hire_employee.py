"""Hire an employee; a developer gets access to the bakery's GitHub repository (through the outbox)."""

from __future__ import annotations

import logging

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain.access import NO_ACCESS, access_changes, require_username
from ..domain.models import Employee, EmployeeCreate
from ..domain.records import employee_from_row

log = logging.getLogger("bakery_service.employees")


def create_employee(uow: BakeryUnitOfWork, body: EmployeeCreate) -> Employee:
    developer = body.permissions.developer
    require_username(body.github_username, developer)
    with uow:
        row = uow.employees.add(body.first_name.strip(), body.last_name.strip(), body.github_username, developer)
        for action in access_changes(row["id"], NO_ACCESS, (body.github_username, developer)):
            uow.outbox.add(action)
        uow.commit()
    log.info("employee added", extra={"employee_id": row["id"], "developer": developer})
    return employee_from_row(row)
