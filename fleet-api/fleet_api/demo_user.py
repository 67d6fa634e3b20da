"""The demo user, an admin, seeded when the app's dependencies are built.

Every gunicorn worker tries (the unique e-mail index lets one insert win); a worker that found Postgres
down tries again on the next login.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from .adapters.passwords import hash_password
from .adapters.postgres import FleetRepository
from .domain.models import Role
from .settings import Settings

log = logging.getLogger("fleet_api.demo_user")


class DemoUser:
    """The configured demo user, an admin: created if missing, promoted if it exists as a plain user."""

    def __init__(self, settings: Settings, repo: FleetRepository):
        self._settings = settings
        self._repo = repo
        self._done = threading.Event()

    @property
    def seeded(self) -> bool:
        return self._done.is_set()

    def ensure(self) -> None:
        """Idempotent; a Postgres outage is logged and left for the next call."""
        if self._done.is_set():
            return
        settings = self._settings
        password = settings.demo_user_password.get_secret_value()
        if not password or not settings.demo_user_email:
            self._done.set()
            return
        email = settings.demo_user_email.lower()
        try:
            existing = self._repo.credentials(email)
            if existing is None:
                # The slow hash only when the user is missing, not on every worker start.
                created = self._repo.ensure_user(settings.demo_user_name, email, hash_password(password), Role.ADMIN)
                if created:
                    log.info("demo user created", extra={"email": email})
            elif existing["role"] != Role.ADMIN:
                self._repo.set_role(existing["id"], Role.ADMIN)
                log.info("demo user made admin", extra={"email": email})
        except SQLAlchemyError as exc:
            log.warning("demo user not seeded yet: %s", type(exc).__name__)
            return
        self._done.set()
