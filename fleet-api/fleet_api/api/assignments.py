"""``/assignments``: a driver takes a load; one active load per driver, one driver per load."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint
from servicekit import ProblemModel, endpoint

from .. import assignments
from ..domain.models import AssignmentCreate, AssignmentDetail, AssignmentStatusUpdate
from ..wiring import deps
from .responses import json_response

bp = Blueprint("assignments", __name__)


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
    assignment = AssignmentDetail.model_validate(assignments.assign(deps(), body.driver_id, body.load_id))
    return json_response(assignment, 201, {"Location": f"/assignments/{assignment.id}"})


@bp.get("/assignments/<uuid:assignment_id>")
@endpoint(summary="One assignment with its driver and load", response=AssignmentDetail, tags=["assignments"])
def get_assignment(assignment_id: UUID):
    return json_response(AssignmentDetail.model_validate(deps().repo.get_assignment(assignment_id)))


@bp.patch("/assignments/<uuid:assignment_id>/status")
@endpoint(
    summary="Complete or cancel an assignment (409 from a final state)",
    body=AssignmentStatusUpdate,
    response=AssignmentDetail,
    responses={409: ProblemModel},
    tags=["assignments"],
)
def update_assignment_status(assignment_id: UUID, body: AssignmentStatusUpdate):
    return json_response(AssignmentDetail.model_validate(assignments.finish(deps(), assignment_id, body.status)))
