"""``/assignments``: a driver takes a load; one active load per driver, one driver per load."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint
from servicekit import ProblemModel, counter, endpoint

from ..domain.models import AssignmentCreate, AssignmentDetail, AssignmentStatusUpdate
from .context import current_fleet
from .responses import json_response

bp = Blueprint("assignments", __name__)

_outcomes = counter(
    "fleet_assignment_requests_total", "Assignment attempts and transitions by outcome", ["action", "outcome"]
)


@bp.post("/assignments")
@endpoint(
    summary="Assign a load to a driver (409 when either is already busy)",
    body=AssignmentCreate,
    response=AssignmentDetail,
    status=201,
    responses={409: ProblemModel},
    tags=["assignments"],
)
def create_assignment(body: AssignmentCreate):
    fleet = current_fleet()
    try:
        row = fleet.repo.create_assignment(body.driver_id, body.load_id)
    except Exception as exc:
        _outcomes.labels("assign", str(getattr(exc, "status", "error"))).inc()
        raise
    _outcomes.labels("assign", "201").inc()
    fleet.cache.invalidate()
    assignment = AssignmentDetail.model_validate(row)
    return json_response(assignment, 201, {"Location": f"/assignments/{assignment.id}"})


@bp.get("/assignments/<uuid:assignment_id>")
@endpoint(summary="One assignment with its driver and load", response=AssignmentDetail, tags=["assignments"])
def get_assignment(assignment_id: UUID):
    return json_response(AssignmentDetail.model_validate(current_fleet().repo.get_assignment(assignment_id)))


@bp.patch("/assignments/<uuid:assignment_id>/status")
@endpoint(
    summary="Complete or cancel an assignment (409 from a final state)",
    body=AssignmentStatusUpdate,
    response=AssignmentDetail,
    responses={409: ProblemModel},
    tags=["assignments"],
)
def update_assignment_status(assignment_id: UUID, body: AssignmentStatusUpdate):
    fleet = current_fleet()
    try:
        row = fleet.repo.finish_assignment(assignment_id, body.status)
    except Exception as exc:
        _outcomes.labels(str(body.status).lower(), str(getattr(exc, "status", "error"))).inc()
        raise
    _outcomes.labels(str(body.status).lower(), "200").inc()
    fleet.cache.invalidate()
    return json_response(AssignmentDetail.model_validate(row))
