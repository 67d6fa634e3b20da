"""Keeping the token-version hash every service reads (servicekit/revocation.py) equal to Postgres.

Postgres (``fleet.users.token_version``) is the truth; the hash in Redis is what every service consults. A change
that moves a version (a login publishing the user's version, a demotion, a new password, a deletion) runs in
``versioned``: the hash is written *inside* the Postgres transaction, before the commit. If Redis refuses, the
transaction rolls back and the caller gets 503 with nothing changed, so no revocation ever exists in Postgres
alone. If the commit fails after the write, the hash is ahead of Postgres: the user's tokens are refused until the
next login writes Postgres's version again (the safe side).

Locks, so that no interleaving loses a revocation:
- every versioned transaction takes a shared advisory lock first, then the user's row (``FOR UPDATE`` to change
  it, ``FOR SHARE`` to log in): two changes of one user, or a login and a change, take turns;
- ``rewrite`` (the whole table, after Redis lost the hash) takes the same advisory lock exclusively: it reads
  Postgres only when no versioned transaction is between its write to Redis and its commit, so it can neither
  undo a revocation nor bring a deleted user back.

The keeper (background/token_versions_keeper.py) calls ``ensure_complete`` once a second in every web worker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from ..adapters.token_versions import TokenVersionWriter
from ..adapters.unit_of_work import FleetUnitOfWork

log = logging.getLogger("fleet_api.token_versions")


def rewrite(uow: FleetUnitOfWork, writer: TokenVersionWriter) -> int:
    """Write every user's version to the hash, replacing it; returns how many users."""
    with uow:
        uow.users.lock_token_versions(exclusive=True)
        versions = uow.users.token_versions()
        writer.replace_all(versions)
        uow.commit()
    return len(versions)


def ensure_complete(uow: FleetUnitOfWork, writer: TokenVersionWriter) -> None:
    if writer.enabled and not writer.is_complete():
        count = rewrite(uow, writer)
        log.warning("token versions: the hash was incomplete; rewrote it from postgres (%d users)", count)


@contextmanager
def versioned(uow: FleetUnitOfWork, writer: TokenVersionWriter) -> Iterator[FleetUnitOfWork]:
    """The unit of work's block, in which ``writer.set``/``writer.forget`` publish versions before the commit
    (the caller's ``uow.commit()``)."""
    # Before the transaction: rewriting takes the advisory lock exclusively, which this transaction will share.
    ensure_complete(uow, writer)
    with uow:
        uow.users.lock_token_versions(exclusive=False)
        yield uow
