"""The demo user, an admin: created if missing, promoted if it exists as a plain user.

Run by every web worker as it starts (background/demo_user.py) and again at a login while it has not succeeded;
the unique e-mail index lets one insert win when workers race.
"""

from __future__ import annotations

import logging

from ..adapters.passwords import hash_password
from ..adapters.unit_of_work import FleetUnitOfWork
from ..domain.models import Role

log = logging.getLogger("fleet_api.demo_user")


def seed_demo_user(uow: FleetUnitOfWork, name: str, email: str, password: str) -> None:
    """Idempotent. Raises what the database raises when it is unreachable."""
    email = email.lower()
    with uow:
        existing = uow.users.credentials(email)
    if existing is None:
        # The slow hash only when the user is missing, not on every worker start.
        password_hash = hash_password(password)
        with uow:
            created = uow.users.insert_unless_present(name, email, password_hash, Role.ADMIN)
            uow.commit()
        if created:
            log.info("demo user created", extra={"email": email})
    elif existing["role"] != Role.ADMIN:
        with uow:
            uow.users.set_role(existing["id"], Role.ADMIN)
            uow.commit()
        log.info("demo user made admin", extra={"email": email})
