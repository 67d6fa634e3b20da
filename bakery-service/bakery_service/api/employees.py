"""``/employees``: the bakery's staff; developers get access to the GitHub repository."""

from __future__ import annotations

from flask import Blueprint, Response
from servicekit import ProblemModel, endpoint

from ..domain.models import Employee, EmployeeCreate, EmployeeList, EmployeePatch
from ..usecases.change_employee import update_employee as change
from ..usecases.fire_employee import fire_employee as fire
from ..usecases.hire_employee import create_employee as hire
from ..usecases.read_employees import get_employee as get
from ..usecases.read_employees import list_employees as list_all
from ..wiring import deps
from .responses import checked_id, json_response

bp = Blueprint("employees", __name__)


@bp.get("/employees")
@endpoint(summary="Every employee", response=EmployeeList, tags=["employees"])
def list_employees() -> Response:
    return json_response(EmployeeList(items=list_all(deps().uow())))


@bp.post("/employees")
@endpoint(
    summary="Hire: a developer is made a collaborator of the GitHub repository",
    body=EmployeeCreate,
    response=Employee,
    status=201,
    tags=["employees"],
)
def create_employee(body: EmployeeCreate) -> Response:
    employee = hire(deps().uow(), body)
    return json_response(employee, 201, {"Location": f"/employees/{employee.id}"})


@bp.get("/employees/<employee_id>")
@endpoint(summary="One employee", response=Employee, tags=["employees"])
def get_employee(employee_id: str) -> Response:
    return json_response(get(deps().uow(), checked_id(employee_id, "employee")))


@bp.patch("/employees/<employee_id>")
@endpoint(
    summary="Change names, GitHub account or the developer permission (GitHub access follows)",
    body=EmployeePatch,
    response=Employee,
    responses={409: ProblemModel},
    tags=["employees"],
)
def update_employee(employee_id: str, body: EmployeePatch) -> Response:
    return json_response(change(deps().uow(), checked_id(employee_id, "employee"), body))


@bp.delete("/employees/<employee_id>")
@endpoint(summary="Fire: GitHub access is removed", status=204, tags=["employees"])
def fire_employee(employee_id: str) -> Response:
    fire(deps().uow(), checked_id(employee_id, "employee"))
    return Response(status=204)
