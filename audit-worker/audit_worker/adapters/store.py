"""Where audit documents live: MongoDB ``audit_events`` (compose and production), Postgres schema ``audit``
(the local stack, postgres_store.py), or memory (a single process, lost on restart).

All take the same calls; the Mongo one uses only the plain pymongo API that mongomock also supports
(insert_one, find_one, find, update_one, create_index): no bulk writes, no sessions.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from copy import deepcopy
from datetime import datetime
from typing import Any, Protocol

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

Document = dict[str, Any]


class AuditStore(Protocol):
    def record(self, document: Document) -> tuple[Document, bool]:
        """Store the document unless its eventId is known: (stored document, True when new)."""

    def mark_notified(self, event_id: str, at: datetime) -> None: ...

    def find(
        self, *, load_id: str | None = None, driver_id: str | None = None, type: str | None = None, limit: int = 100
    ) -> list[Document]: ...

    def ping(self) -> dict: ...


class MongoAuditStore:
    def __init__(self, database: Any, collection: str = "audit_events"):
        self.collection = database[collection]
        # The unique index is what makes a redelivered event a no-op, whatever the consumer count.
        self.collection.create_index([("eventId", ASCENDING)], unique=True, name="eventId_unique")
        self.collection.create_index([("loadId", ASCENDING), ("occurredAt", ASCENDING)], name="load_trail")
        self.collection.create_index([("driverId", ASCENDING), ("occurredAt", ASCENDING)], name="driver_trail")

    @classmethod
    def from_url(cls, url: str, database: str) -> MongoAuditStore:
        from pymongo import MongoClient

        client = MongoClient(url, serverSelectionTimeoutMS=3000, tz_aware=True)
        return cls(client[database])

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

    def ping(self) -> dict:
        self.collection.database.command("ping")
        return {"store": "mongo"}

    def latest(self) -> Document | None:
        return self.collection.find_one({}, {"_id": False}, sort=[("recordedAt", DESCENDING)])


class MemoryAuditStore:
    """The local stack's stand-in: the same behaviour in one process's memory, lost on restart."""

    def __init__(self, max_documents: int = 100_000):
        self.max_documents = max_documents
        self._documents: OrderedDict[str, Document] = OrderedDict()
        self._lock = threading.Lock()

    def record(self, document: Document) -> tuple[Document, bool]:
        with self._lock:
            existing = self._documents.get(document["eventId"])
            if existing is not None:
                return deepcopy(existing), False
            self._documents[document["eventId"]] = deepcopy(document)
            while len(self._documents) > self.max_documents:
                self._documents.popitem(last=False)  # oldest first: a bounded trail, not a leak
            return document, True

    def mark_notified(self, event_id: str, at: datetime) -> None:
        with self._lock:
            if event_id in self._documents:
                self._documents[event_id]["notifiedAt"] = at

    def find(
        self, *, load_id: str | None = None, driver_id: str | None = None, type: str | None = None, limit: int = 100
    ) -> list[Document]:
        with self._lock:
            matches = [
                deepcopy(d)
                for d in self._documents.values()
                if (not load_id or d["loadId"] == load_id)
                and (not driver_id or d["driverId"] == driver_id)
                and (not type or d["type"] == type)
            ]
        matches.sort(key=lambda d: (d["occurredAt"], d["recordedAt"]))
        return matches[:limit]

    def ping(self) -> dict:
        with self._lock:
            return {"store": "memory", "documents": len(self._documents)}


def build_store(settings: Any) -> AuditStore:
    if settings.audit_store == "mongo":
        return MongoAuditStore.from_url(settings.mongo_url.get_secret_value(), settings.mongo_database)
    if settings.audit_store == "postgres":
        from .postgres_store import PostgresAuditStore

        if settings.database_url is None:
            raise SystemExit("configuration error: AUDIT_STORE=postgres needs DATABASE_URL")
        return PostgresAuditStore.from_url(settings.database_url.get_secret_value())
    return MemoryAuditStore(settings.audit_memory_max_documents)
