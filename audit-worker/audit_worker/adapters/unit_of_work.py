"""audit-worker's unit of work: the trail's repository (``events``) and the transaction its writes belong to.

    with uow:
        document, new = uow.events.record(document)
        uow.commit()

On Postgres a block is one transaction (servicekit.SqlUnitOfWork): left without ``commit()``, it leaves nothing
behind. On MongoDB and in memory a write is applied when it is made: one document's write is atomic on its own,
and neither store has a transaction across documents here (MongoDB without a replica set, mongomock). The
audit's flows write at most one document a block, last, so there ``commit()`` has nothing to add.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from servicekit import UnitOfWork

Document = dict[str, Any]


class AuditEvents(Protocol):
    """The trail: one document per fleet event, keyed by its event id."""

    def record(self, document: Document) -> tuple[Document, bool]:
        """Store the document unless its eventId is known: (stored document, True when new)."""
        ...

    def mark_notified(self, event_id: str, at: datetime) -> None: ...

    def find(
        self, *, load_id: str | None = None, driver_id: str | None = None, type: str | None = None, limit: int = 100
    ) -> list[Document]:
        """Oldest first (by occurredAt, then recordedAt)."""
        ...


class AuditUnitOfWork(UnitOfWork):
    events: AuditEvents


class ImmediateUnitOfWork(AuditUnitOfWork):
    """The unit of work of a store whose writes apply when made (MongoDB, memory): see the module's docstring."""

    def __init__(self, events: AuditEvents) -> None:
        self.events = events

    def commit(self) -> None:
        """The block's write was applied when made."""

    def rollback(self) -> None:
        """Nothing is pending."""


#: A fresh unit of work each call (one is used by one thread, one block at a time).
UnitOfWorkFactory = Callable[[], AuditUnitOfWork]


class AuditStore(Protocol):
    """Where the trail lives; built without connecting (clients connect at their first use)."""

    def unit_of_work(self) -> AuditUnitOfWork: ...

    def ping(self) -> dict[str, Any]:
        """Readiness: raises when the store cannot be reached."""
        ...
