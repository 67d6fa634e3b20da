"""The trail of a load, a driver or an event type, oldest first."""

from __future__ import annotations

from ..adapters.unit_of_work import AuditUnitOfWork
from ..domain.models import AuditDocument, AuditPage, AuditQuery


def list_audit_events(uow: AuditUnitOfWork, query: AuditQuery) -> AuditPage:
    with uow:
        documents = uow.events.find(
            load_id=str(query.load_id) if query.load_id else None,
            driver_id=str(query.driver_id) if query.driver_id else None,
            type=query.type,
            limit=query.limit,
        )
    return AuditPage(items=[AuditDocument.model_validate(d) for d in documents], count=len(documents))
