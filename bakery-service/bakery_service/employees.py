"""Employees, and their GitHub access: a developer is a collaborator of the bakery's repository; losing
the permission, changing username or being fired removes the access (through the outbox)."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Connection

from .actions import GithubGrant, GithubRevoke, add_action
from .adapters import postgres as pg
from .adapters.postgres import BakeryStore
from .domain.errors import Conflict, NotFound
from .domain.models import Employee, EmployeeCreate, EmployeePatch
from .domain.records import employee_from_row

log = logging.getLogger("bakery_service.employees")


def _access_changes(
    conn: Connection, employee_id: int, before: tuple[str | None, bool], after: tuple[str | None, bool]
) -> None:
    """GitHub actions that take access from the ``before`` state to the ``after`` one."""
    old_user, old_dev = before
    new_user, new_dev = after
    had = old_user if old_dev else None
    has = new_user if new_dev else None
    if had and had != has:
        add_action(conn, GithubRevoke(username=had, employee_id=employee_id))
    if has and has != had:
        add_action(conn, GithubGrant(username=has, employee_id=employee_id))


def _require_username(username: str | None, developer: bool) -> None:
    if developer and not username:
        raise Conflict(
            "A developer needs a githubUsername (GitHub access is granted to that account).",
            code="developer_without_github",
            field="githubUsername",
        )


def create_employee(store: BakeryStore, body: EmployeeCreate) -> Employee:
    developer = body.permissions.developer
    _require_username(body.github_username, developer)
    with store.begin() as conn:
        row = pg.insert_employee(conn, body.first_name.strip(), body.last_name.strip(), body.github_username, developer)
        _access_changes(conn, row["id"], (None, False), (body.github_username, developer))
    log.info("employee added", extra={"employee_id": row["id"], "developer": developer})
    return employee_from_row(row)


def get_employee(store: BakeryStore, employee_id: int) -> Employee:
    with store.read() as conn:
        row = pg.get_employee(conn, employee_id)
    if row is None:
        raise NotFound(f"No employee has the id {employee_id}.")
    return employee_from_row(row)


def list_employees(store: BakeryStore) -> list[Employee]:
    with store.read() as conn:
        return [employee_from_row(r) for r in pg.list_employees(conn)]


def update_employee(store: BakeryStore, employee_id: int, body: EmployeePatch) -> Employee:
    with store.begin() as conn:
        row = pg.get_employee(conn, employee_id, for_update=True)
        if row is None:
            raise NotFound(f"No employee has the id {employee_id}.")
        sent = body.model_fields_set
        username = body.github_username if "github_username" in sent else row["github_username"]
        developer = row["developer"]
        if body.permissions is not None and body.permissions.developer is not None:
            developer = body.permissions.developer
        _require_username(username, developer)
        updated = pg.update_employee(
            conn,
            employee_id,
            (body.first_name or row["first_name"]).strip(),
            (body.last_name or row["last_name"]).strip(),
            username,
            developer,
        )
        _access_changes(conn, employee_id, (row["github_username"], row["developer"]), (username, developer))
    log.info("employee updated", extra={"employee_id": employee_id, "developer": developer})
    return employee_from_row(updated)


def fire_employee(store: BakeryStore, employee_id: int) -> None:
    with store.begin() as conn:
        row = pg.get_employee(conn, employee_id, for_update=True)
        if row is None:
            raise NotFound(f"No employee has the id {employee_id}.")
        pg.delete_employee(conn, employee_id)
        _access_changes(conn, employee_id, (row["github_username"], row["developer"]), (None, False))
    log.info("employee removed", extra={"employee_id": employee_id})
