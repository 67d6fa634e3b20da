"""Change an employee's names, GitHub account or developer permission; GitHub access follows (the old account
loses it, the new one gets it), through the outbox."""

from __future__ import annotations

import logging

from servicekit.domain_errors import NotFound

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain.access import access_changes, require_username
from ..domain.models import Employee, EmployeePatch
from ..domain.records import employee_from_row

log = logging.getLogger("bakery_service.employees")


def update_employee(uow: BakeryUnitOfWork, employee_id: int, body: EmployeePatch) -> Employee:
    with uow:
        row = uow.employees.get(employee_id, for_update=True)
        if row is None:
            raise NotFound(f"No employee has the id {employee_id}.")
        sent = body.model_fields_set
        username = body.github_username if "github_username" in sent else row["github_username"]
        developer = bool(row["developer"])
        if body.permissions is not None and body.permissions.developer is not None:
            developer = body.permissions.developer
        require_username(username, developer)
        updated = uow.employees.update(
            employee_id,
            (body.first_name or row["first_name"]).strip(),
            (body.last_name or row["last_name"]).strip(),
            username,
            developer,
        )
        for action in access_changes(employee_id, (row["github_username"], row["developer"]), (username, developer)):
            uow.outbox.add(action)
        uow.commit()
    log.info("employee updated", extra={"employee_id": employee_id, "developer": developer})
    return employee_from_row(updated)
