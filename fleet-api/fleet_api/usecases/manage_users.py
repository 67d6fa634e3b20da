"""The user use cases under the roles of domain/roles.py: an admin creates, changes and deletes users and sets
their passwords; an admin reads any user, a user only itself.

Deleting a user, demoting an admin and setting a password revoke the user's tokens: the change and the user's new
token version (or the user's absence) are published to every service before the commit, in one versioned
transaction (keep_token_versions.py); if Redis cannot be told, nothing changes and the answer is 503. Deletions and
demotions take turns (an advisory lock), so concurrent ones can never leave the suite without an admin.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from servicekit.domain_errors import Conflict, NotFound

from ..adapters.passwords import hash_password
from ..adapters.postgres import Row, UniqueViolation
from ..adapters.token_versions import TokenVersionWriter
from ..adapters.unit_of_work import FleetUnitOfWork
from ..domain.models import PasswordChange, Role, UserCreate, UserUpdate
from ..domain.roles import check_leaves_an_admin, check_may_manage_users, check_may_read_user
from .keep_token_versions import versioned

_USER_FIELDS = ("id", "name", "email", "role", "created_at")
EMAIL_INDEX = "users_email_key"
log = logging.getLogger("fleet_api.users")


def create_user(uow: FleetUnitOfWork, claims: Mapping[str, Any], body: UserCreate) -> Row:
    check_may_manage_users(claims)
    password_hash = hash_password(body.password) if body.password else None
    try:
        with uow:
            user = uow.users.insert(body.name, body.email, password_hash, str(body.role))
            uow.commit()
    except UniqueViolation as exc:
        if exc.constraint != EMAIL_INDEX:
            raise
        raise Conflict("A user with this e-mail already exists.") from None
    log.info("user created", extra={"user_id": str(user["id"]), "role": str(body.role)})
    return user


def read_user(uow: FleetUnitOfWork, claims: Mapping[str, Any], user_id: UUID) -> Row:
    # Checked before the lookup: a refused caller does not learn whether the user exists.
    check_may_read_user(claims, user_id)
    with uow:
        user = uow.users.get(user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def update_user(
    uow: FleetUnitOfWork, versions: TokenVersionWriter, claims: Mapping[str, Any], user_id: UUID, body: UserUpdate
) -> Row:
    check_may_manage_users(claims)
    changes: dict[str, Any] = {k: str(v) for k, v in body.model_dump(exclude_none=True).items()}
    with versioned(uow, versions):
        if "role" in changes:
            uow.users.lock_admin_changes()
        user = _locked(uow, user_id)
        if user["role"] == Role.ADMIN and changes.get("role") == Role.USER:
            check_leaves_an_admin(uow.users.count_admins(), user["role"], changes["role"])
            changes["token_version"] = _revoke(versions, user)
        if not changes:
            return {field: user[field] for field in _USER_FIELDS}
        changed = uow.users.change(user_id, changes)
        uow.commit()
    return changed


def set_password(
    uow: FleetUnitOfWork, versions: TokenVersionWriter, claims: Mapping[str, Any], user_id: UUID, body: PasswordChange
) -> None:
    check_may_manage_users(claims)
    # Hashed before any lock is taken: argon2 is slow on purpose.
    password_hash = hash_password(body.password)
    with versioned(uow, versions):
        user = _locked(uow, user_id)
        version = _revoke(versions, user)
        uow.users.change(user_id, {"password_hash": password_hash, "token_version": version})
        uow.commit()


def delete_user(uow: FleetUnitOfWork, versions: TokenVersionWriter, claims: Mapping[str, Any], user_id: UUID) -> None:
    check_may_manage_users(claims)
    with versioned(uow, versions):
        uow.users.lock_admin_changes()
        user = _locked(uow, user_id)
        check_leaves_an_admin(uow.users.count_admins(), user["role"], None)
        versions.forget(str(user_id))
        uow.users.delete(user_id)
        uow.commit()


def _locked(uow: FleetUnitOfWork, user_id: UUID) -> Row:
    user = uow.users.for_update(user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def _revoke(versions: TokenVersionWriter, user: Row) -> int:
    """The user's next token version, published to every service; the caller writes it to Postgres."""
    version: int = user["token_version"] + 1
    versions.set(str(user["id"]), version)
    return version
