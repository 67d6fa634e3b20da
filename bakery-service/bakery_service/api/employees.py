"""``/employees``: the bakery's staff; developers get access to the GitHub repository."""

from __future__ import annotations

from flask import Blueprint, Response
from servicekit import ProblemModel, endpoint

from .. import employees
from ..domain.models import Employee, EmployeeCreate, EmployeeList, EmployeePatch
from ..wiring import deps
from .responses import checked_id, json_response

bp = Blueprint("employees", __name__)


@bp.get("/employees")
@endpoint(summary="Every employee", response=EmployeeList, tags=["employees"])
def list_employees():
    return json_response(EmployeeList(items=employees.list_employees(deps().store)))


@bp.post("/employees")
@endpoint(
    summary="Hire: a developer is made a collaborator of the GitHub repository",
    body=EmployeeCreate,
    response=Employee,
    status=201,
    tags=["employees"],
)
def create_employee(body: EmployeeCreate):
    employee = employees.create_employee(deps().store, body)
    return json_response(employee, 201, {"Location": f"/employees/{employee.id}"})


@bp.get("/employees/<employee_id>")
@endpoint(summary="One employee", response=Employee, tags=["employees"])
def get_employee(employee_id: str):
    return json_response(employees.get_employee(deps().store, checked_id(employee_id, "employee")))


@bp.patch("/employees/<employee_id>")
@endpoint(
    summary="Change names, GitHub account or the developer permission (GitHub access follows)",
    body=EmployeePatch,
    response=Employee,
    responses={409: ProblemModel},
    tags=["employees"],
)
def update_employee(employee_id: str, body: EmployeePatch):
    return json_response(employees.update_employee(deps().store, checked_id(employee_id, "employee"), body))


@bp.delete("/employees/<employee_id>")
@endpoint(summary="Fire: GitHub access is removed", status=204, tags=["employees"])
def fire_employee(employee_id: str):
    employees.fire_employee(deps().store, checked_id(employee_id, "employee"))
    return Response(status=204)
