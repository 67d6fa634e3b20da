"""``GET /audit-events``: the trail of a load, a driver or an event type, oldest first."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from pymongo.errors import PyMongoError
from servicekit import ApiProblem, endpoint

from ..domain.audit import AuditDocument, AuditPage, AuditQuery

bp = Blueprint("audit_events", __name__)


@bp.get("/audit-events")
@endpoint(
    summary="Audit documents, filtered by loadId, driverId and/or type",
    query=AuditQuery,
    response=AuditPage,
    tags=["audit"],
)
def list_audit_events(query: AuditQuery):
    store = current_app.extensions["audit_store"]
    try:
        documents = store.find(
            load_id=str(query.load_id) if query.load_id else None,
            driver_id=str(query.driver_id) if query.driver_id else None,
            type=query.type,
            limit=query.limit,
        )
    except PyMongoError:
        raise ApiProblem(
            503, "Service Unavailable", "The audit store is unavailable; retry shortly.", headers={"Retry-After": "5"}
        ) from None
    page = AuditPage(items=[AuditDocument.model_validate(d) for d in documents], count=len(documents))
    return Response(page.model_dump_json(), mimetype="application/json")
