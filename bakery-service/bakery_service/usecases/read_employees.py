"""Read the bakery's staff."""

from __future__ import annotations

from servicekit.domain_errors import NotFound

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain.models import Employee
from ..domain.records import employee_from_row


def get_employee(uow: BakeryUnitOfWork, employee_id: int) -> Employee:
    with uow:
        row = uow.employees.get(employee_id)
    if row is None:
        raise NotFound(f"No employee has the id {employee_id}.")
    return employee_from_row(row)


def list_employees(uow: BakeryUnitOfWork) -> list[Employee]:
    with uow:
        return [employee_from_row(r) for r in uow.employees.all()]
