"""The audit trail in one process's memory (AUDIT_STORE=memory): the same behaviour, lost on restart."""

from __future__ import annotations

import threading
from collections import OrderedDict
from copy import deepcopy
from datetime import datetime
from typing import Any

from .unit_of_work import AuditUnitOfWork, Document, ImmediateUnitOfWork


class MemoryAuditEvents:
    def __init__(self, max_documents: int = 100_000) -> None:
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

    def count(self) -> int:
        with self._lock:
            return len(self._documents)


class MemoryAuditStore:
    def __init__(self, max_documents: int = 100_000) -> None:
        self.events = MemoryAuditEvents(max_documents)

    def unit_of_work(self) -> AuditUnitOfWork:
        return ImmediateUnitOfWork(self.events)

    def ping(self) -> dict[str, Any]:
        return {"store": "memory", "documents": self.events.count()}
