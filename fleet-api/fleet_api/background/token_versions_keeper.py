"""A thread per web worker that looks once a second whether the token-version hash is complete (a Redis restart
without persistence, a flush) and rewrites it from Postgres when not; the services decide from their last copy
meanwhile (usecases/keep_token_versions.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from servicekit.domain_errors import Unavailable
from sqlalchemy.exc import SQLAlchemyError

from ..adapters.token_versions import TokenVersionWriter
from ..adapters.unit_of_work import FleetUnitOfWork
from ..usecases.keep_token_versions import ensure_complete

log = logging.getLogger("fleet_api.token_versions")


class TokenVersionsKeeper:
    """Runs only when the hash is written at all (AUTH_REDIS_URL set)."""

    def __init__(
        self, uows: Callable[[], FleetUnitOfWork], writer: TokenVersionWriter, every_seconds: float = 1.0
    ) -> None:
        self._uows = uows
        self._writer = writer
        self._every = every_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._writer.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="token-versions-keeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        uow = self._uows()
        failing = False
        while not self._stop.is_set():
            try:
                ensure_complete(uow, self._writer)
                if failing:
                    log.warning("token versions: the hash can be kept again")
                failing = False
            except (Unavailable, SQLAlchemyError) as exc:
                if not failing:
                    log.warning("token versions: cannot check the hash (%s); trying every %.0f s", exc, self._every)
                failing = True
            self._stop.wait(self._every)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
