"""``GET /audit-events``: the trail of a load, a driver or an event type, oldest first."""

from __future__ import annotations

from flask import Blueprint, Response
from servicekit import endpoint

from ..domain.models import AuditPage, AuditQuery
from ..usecases.list_audit_events import list_audit_events as trail
from ..wiring import deps

bp = Blueprint("audit_events", __name__)


@bp.get("/audit-events")
@endpoint(
    summary="Audit documents, filtered by loadId, driverId and/or type",
    query=AuditQuery,
    response=AuditPage,
    tags=["audit"],
)
def list_audit_events(query: AuditQuery) -> Response:
    # A store that cannot be reached is servicekit's 503 problem (with Retry-After), like every service's.
    page = trail(deps().uow(), query)
    return Response(page.model_dump_json(), mimetype="application/json")
