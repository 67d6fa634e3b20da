"""The audit trail in MongoDB ``audit_events`` (compose and production): AUDIT_STORE=mongo.

Only the plain pymongo API that mongomock also supports (insert_one, find_one, find, update_one, create_index):
no bulk writes, no sessions. Building the store connects to nothing; its indexes are made before its first unit
of work.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.errors import DuplicateKeyError

from .unit_of_work import AuditUnitOfWork, Document, ImmediateUnitOfWork


class MongoAuditEvents:
    def __init__(self, collection: Any) -> None:
        self.collection = collection

    def record(self, document: Document) -> tuple[Document, bool]:
        try:
            self.collection.insert_one(dict(document))
        except DuplicateKeyError:
            existing = self.collection.find_one({"eventId": document["eventId"]}, {"_id": False})
            return existing or document, False
        return document, True

    def mark_notified(self, event_id: str, at: datetime) -> None:
        self.collection.update_one({"eventId": event_id}, {"$set": {"notifiedAt": at}})

    def find(
        self, *, load_id: str | None = None, driver_id: str | None = None, type: str | None = None, limit: int = 100
    ) -> list[Document]:
        query = {k: v for k, v in {"loadId": load_id, "driverId": driver_id, "type": type}.items() if v}
        cursor = (
            self.collection.find(query, {"_id": False})
            .sort([("occurredAt", ASCENDING), ("recordedAt", ASCENDING)])
            .limit(limit)
        )
        return list(cursor)

    def latest(self) -> Document | None:
        latest: Document | None = self.collection.find_one({}, {"_id": False}, sort=[("recordedAt", DESCENDING)])
        return latest


class MongoAuditStore:
    def __init__(self, database: Any, collection: str = "audit_events") -> None:
        self.collection = database[collection]
        self._indexed = False
        self._indexing = threading.Lock()

    @classmethod
    def from_url(cls, url: str, database: str) -> MongoAuditStore:
        # connect=False: the client's monitor threads start at its first operation, not here.
        client: MongoClient[Document] = MongoClient(url, serverSelectionTimeoutMS=3000, tz_aware=True, connect=False)
        return cls(client[database])

    def unit_of_work(self) -> AuditUnitOfWork:
        self._ensure_indexes()
        return ImmediateUnitOfWork(MongoAuditEvents(self.collection))

    def ping(self) -> dict[str, Any]:
        self.collection.database.command("ping")
        return {"store": "mongo"}

    def _ensure_indexes(self) -> None:
        """The unique index is what makes a redelivered event a no-op, whatever the consumer count; made once a
        process (create_index is idempotent), and tried again at the next use when MongoDB could not be reached."""
        with self._indexing:
            if self._indexed:
                return
            self.collection.create_index([("eventId", ASCENDING)], unique=True, name="eventId_unique")
            self.collection.create_index([("loadId", ASCENDING), ("occurredAt", ASCENDING)], name="load_trail")
            self.collection.create_index([("driverId", ASCENDING), ("occurredAt", ASCENDING)], name="driver_trail")
            self._indexed = True
