"""The user use cases: create (admins only) and read (an admin any, a user itself), see domain/roles.py."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from .adapters.passwords import hash_password
from .adapters.postgres import Row
from .domain.models import UserCreate
from .domain.roles import check_may_create_user, check_may_read_user
from .wiring import Dependencies

log = logging.getLogger("fleet_api.users")


def create(deps: Dependencies, claims: Mapping[str, Any], body: UserCreate) -> Row:
    check_may_create_user(claims)
    password_hash = hash_password(body.password) if body.password else None
    user = deps.repo.create_user(body.name, body.email, password_hash, str(body.role))
    log.info("user created", extra={"user_id": str(user["id"]), "role": str(body.role)})
    return user


def read(deps: Dependencies, claims: Mapping[str, Any], user_id: UUID) -> Row:
    # Checked before the lookup: a refused caller does not learn whether the user exists.
    check_may_read_user(claims, user_id)
    return deps.repo.get_user(user_id)
