"""The user use cases under the roles of domain/roles.py: an admin creates, changes and deletes users and sets
their passwords; an admin reads any user, a user only itself.

Deleting a user, demoting an admin and setting a password revoke the user's tokens: the change and the user's new
token version (or the user's absence) are published to every service before the commit, in one versioned
transaction (token_versions.py); if Redis cannot be told, nothing changes and the answer is 503. Deletions and
demotions take turns (an advisory lock), so concurrent ones can never leave the suite without an admin.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from . import token_versions
from .adapters.passwords import hash_password
from .adapters.postgres import Row
from .domain.errors import NotFound
from .domain.models import PasswordChange, Role, UserCreate, UserUpdate
from .domain.roles import check_leaves_an_admin, check_may_manage_users, check_may_read_user
from .wiring import Dependencies

_USER_FIELDS = ("id", "name", "email", "role", "created_at")
log = logging.getLogger("fleet_api.users")


def create(deps: Dependencies, claims: Mapping[str, Any], body: UserCreate) -> Row:
    check_may_manage_users(claims)
    password_hash = hash_password(body.password) if body.password else None
    user = deps.repo.create_user(body.name, body.email, password_hash, str(body.role))
    log.info("user created", extra={"user_id": str(user["id"]), "role": str(body.role)})
    return user


def read(deps: Dependencies, claims: Mapping[str, Any], user_id: UUID) -> Row:
    # Checked before the lookup: a refused caller does not learn whether the user exists.
    check_may_read_user(claims, user_id)
    return deps.repo.get_user(user_id)


def update(deps: Dependencies, claims: Mapping[str, Any], user_id: UUID, body: UserUpdate) -> Row:
    check_may_manage_users(claims)
    changes: dict[str, Any] = {k: str(v) for k, v in body.model_dump(exclude_none=True).items()}
    with token_versions.versioned_transaction(deps.repo, deps.token_versions) as conn:
        if "role" in changes:
            deps.repo.lock_admin_changes(conn)
        user = _locked(deps, conn, user_id)
        if user["role"] == Role.ADMIN and changes.get("role") == Role.USER:
            check_leaves_an_admin(deps.repo.count_admins(conn), user["role"], changes["role"])
            changes["token_version"] = _revoke(deps, user)
        if not changes:
            return {field: user[field] for field in _USER_FIELDS}
        return deps.repo.change_user(conn, user_id, changes)


def set_password(deps: Dependencies, claims: Mapping[str, Any], user_id: UUID, body: PasswordChange) -> None:
    check_may_manage_users(claims)
    # Hashed before any lock is taken: argon2 is slow on purpose.
    password_hash = hash_password(body.password)
    with token_versions.versioned_transaction(deps.repo, deps.token_versions) as conn:
        user = _locked(deps, conn, user_id)
        version = _revoke(deps, user)
        deps.repo.change_user(conn, user_id, {"password_hash": password_hash, "token_version": version})


def delete(deps: Dependencies, claims: Mapping[str, Any], user_id: UUID) -> None:
    check_may_manage_users(claims)
    with token_versions.versioned_transaction(deps.repo, deps.token_versions) as conn:
        deps.repo.lock_admin_changes(conn)
        user = _locked(deps, conn, user_id)
        check_leaves_an_admin(deps.repo.count_admins(conn), user["role"], None)
        deps.token_versions.forget(str(user_id))
        deps.repo.delete_user(conn, user_id)


def _locked(deps: Dependencies, conn, user_id: UUID) -> Row:
    user = deps.repo.user_for_update(conn, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def _revoke(deps: Dependencies, user: Row) -> int:
    """The user's next token version, published to every service; the caller writes it to Postgres."""
    version = user["token_version"] + 1
    deps.token_versions.set(str(user["id"]), version)
    return version
