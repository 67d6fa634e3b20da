"""Seeding the demo user when a web worker starts, and at a login while Postgres was not reachable before."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from ..adapters.unit_of_work import FleetUnitOfWork
from ..usecases.seed_demo_user import seed_demo_user

log = logging.getLogger("fleet_api.demo_user")


class DemoUserSeeding:
    """Seeds once per process: at ``start()``, or on a later ``ensure()`` if Postgres was down then.

    Disabled (nothing to do) when the demo password or e-mail is empty."""

    def __init__(self, uows: Callable[[], FleetUnitOfWork], name: str, email: str, password: str):
        self._uows = uows
        self._name = name
        self._email = email
        self._password = password
        self._done = threading.Event()
        if not password or not email:
            self._done.set()

    @property
    def seeded(self) -> bool:
        return self._done.is_set()

    def start(self) -> None:
        # Before the worker serves (gunicorn builds the app in each worker): the demo login works at once.
        self.ensure()

    def ensure(self) -> None:
        """Idempotent; a Postgres outage is logged and left for the next call."""
        if self._done.is_set():
            return
        try:
            seed_demo_user(self._uows(), self._name, self._email, self._password)
        except SQLAlchemyError as exc:
            log.warning("demo user not seeded yet: %s", type(exc).__name__)
            return
        self._done.set()

    def close(self) -> None:
        """Nothing runs between calls."""
