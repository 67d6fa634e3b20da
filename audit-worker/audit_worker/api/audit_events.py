"""``GET /audit-events``: the trail of a load, a driver or an event type, oldest first."""

from __future__ import annotations

from flask import Blueprint, Response
from servicekit import endpoint

from ..domain.models import AuditDocument, AuditPage, AuditQuery
from ..wiring import deps

bp = Blueprint("audit_events", __name__)


@bp.get("/audit-events")
@endpoint(
    summary="Audit documents, filtered by loadId, driverId and/or type",
    query=AuditQuery,
    response=AuditPage,
    tags=["audit"],
)
def list_audit_events(query: AuditQuery):
    # A store that cannot be reached is servicekit's 503 problem (with Retry-After), like every service's.
    documents = deps().store.find(
        load_id=str(query.load_id) if query.load_id else None,
        driver_id=str(query.driver_id) if query.driver_id else None,
        type=query.type,
        limit=query.limit,
    )
    page = AuditPage(items=[AuditDocument.model_validate(d) for d in documents], count=len(documents))
    return Response(page.model_dump_json(), mimetype="application/json")
