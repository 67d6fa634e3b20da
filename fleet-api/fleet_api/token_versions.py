"""Keeping the token-version hash every service reads (servicekit/revocation.py) equal to Postgres.

Postgres (``fleet.users.token_version``) is the truth; the hash in Redis is what every service consults. A change
that moves a version (a login publishing the user's version, a demotion, a new password, a deletion) runs in
``versioned_transaction``: the hash is written *inside* the Postgres transaction, before the commit. If Redis
refuses, the transaction rolls back and the caller gets 503 with nothing changed, so no revocation ever exists in
Postgres alone. If the commit fails after the write, the hash is ahead of Postgres: the user's tokens are refused
until the next login writes Postgres's version again (the safe side).

Locks, so that no interleaving loses a revocation:
- every versioned transaction takes a shared advisory lock first, then the user's row (``FOR UPDATE`` to change
  it, ``FOR SHARE`` to log in): two changes of one user, or a login and a change, take turns;
- ``rewrite`` (the whole table, after Redis lost the hash) takes the same advisory lock exclusively: it reads
  Postgres only when no versioned transaction is between its write to Redis and its commit, so it can neither
  undo a revocation nor bring a deleted user back.

``Keeper`` is a thread per web worker that looks once a second whether the hash is complete (a Redis restart
without persistence, a flush) and rewrites it when not; the services decide from their last copy meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from .adapters.postgres import FleetRepository
from .adapters.token_versions import TokenVersionWriter
from .domain.errors import Unavailable

log = logging.getLogger("fleet_api.token_versions")


def rewrite(repo: FleetRepository, writer: TokenVersionWriter) -> int:
    """Write every user's version to the hash, replacing it; returns how many users."""
    with repo.transaction() as conn:
        repo.lock_token_versions(conn, exclusive=True)
        versions = repo.token_versions(conn)
        writer.replace_all(versions)
    return len(versions)


def ensure_complete(repo: FleetRepository, writer: TokenVersionWriter) -> None:
    if writer.enabled and not writer.is_complete():
        count = rewrite(repo, writer)
        log.warning("token versions: the hash was incomplete; rewrote it from postgres (%d users)", count)


@contextmanager
def versioned_transaction(repo: FleetRepository, writer: TokenVersionWriter) -> Iterator[Connection]:
    """A transaction in which ``writer.set``/``writer.forget`` publish versions before the commit."""
    # Before the transaction: rewriting takes the advisory lock exclusively, which this transaction will share.
    ensure_complete(repo, writer)
    with repo.transaction() as conn:
        repo.lock_token_versions(conn, exclusive=False)
        yield conn


class Keeper:
    """Rewrites the hash whenever Redis has lost it. One per web worker; started by create_app."""

    def __init__(self, repo: FleetRepository, writer: TokenVersionWriter, every_seconds: float = 1.0):
        self._repo = repo
        self._writer = writer
        self._every = every_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._writer.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="token-versions-keeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                ensure_complete(self._repo, self._writer)
                if failing:
                    log.warning("token versions: the hash can be kept again")
                failing = False
            except (Unavailable, SQLAlchemyError) as exc:
                if not failing:
                    log.warning("token versions: cannot check the hash (%s); trying every %.0f s", exc, self._every)
                failing = True
            self._stop.wait(self._every)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
