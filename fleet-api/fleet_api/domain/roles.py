"""Who may do what with users: an admin creates, changes and deletes users and reads any; a user reads only itself.

Decided from the verified token's claims alone, before any lookup, so a refusal never tells whether
the user exists. A service token (``scope: service``) is not a person and carries no role: the
``/users`` resource is closed to it; its own scope is checked where a route asks for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from servicekit.domain_errors import Conflict, Forbidden

from .models import Role

USER_SCOPE = "user"


def role_of(claims: Mapping[str, Any]) -> Role | None:
    """The caller's role; None for a token that is not a person's. Tokens without a role are users."""
    if claims.get("scope") != USER_SCOPE:
        return None
    try:
        return Role(claims.get("role", Role.USER))
    except ValueError:
        return Role.USER


def check_may_manage_users(claims: Mapping[str, Any]) -> None:
    """Creating, changing and deleting users, and setting their passwords: admins only."""
    if role_of(claims) != Role.ADMIN:
        raise Forbidden("Only an admin may create, change or delete users.")


def check_leaves_an_admin(admins: int, target_role: str, new_role: str | None) -> None:
    """Nobody could manage users any more if the last admin were demoted or deleted (new_role None)."""
    if target_role == Role.ADMIN and new_role != Role.ADMIN and admins <= 1:
        raise Conflict("This is the last admin; make another user an admin first.")


def check_may_read_user(claims: Mapping[str, Any], user_id: UUID) -> None:
    role = role_of(claims)
    if role == Role.ADMIN:
        return
    if role == Role.USER and claims.get("sub") == str(user_id):
        return
    raise Forbidden("A user may read only their own record; an admin may read any.")
