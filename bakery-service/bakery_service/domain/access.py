"""Employees' GitHub access: a developer is a collaborator of the bakery's repository; losing the permission,
changing username or being fired removes the access."""

from __future__ import annotations

from servicekit.domain_errors import Conflict

from .actions import Action, GithubGrant, GithubRevoke

#: What access an employee's state gives: (GitHub username, developer).
AccessState = tuple[str | None, bool]
NO_ACCESS: AccessState = (None, False)


def require_username(username: str | None, developer: bool) -> None:
    if developer and not username:
        raise Conflict(
            "A developer needs a githubUsername (GitHub access is granted to that account).",
            code="developer_without_github",
            field="githubUsername",
        )


def access_changes(employee_id: int, before: AccessState, after: AccessState) -> list[Action]:
    """The GitHub actions that take access from the ``before`` state to the ``after`` one."""
    old_user, old_dev = before
    new_user, new_dev = after
    had = old_user if old_dev else None
    has = new_user if new_dev else None
    changes: list[Action] = []
    if had and had != has:
        changes.append(GithubRevoke(username=had, employee_id=employee_id))
    if has and has != had:
        changes.append(GithubGrant(username=has, employee_id=employee_id))
    return changes
