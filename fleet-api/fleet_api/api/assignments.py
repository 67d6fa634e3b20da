"""``/assignments``: a driver takes a load; one active load per driver, one driver per load."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response
from servicekit import ProblemModel, endpoint

from ..domain.models import AssignmentCreate, AssignmentDetail, AssignmentStatusUpdate
from ..usecases.assign import assign
from ..usecases.finish_assignment import finish
from ..usecases.read_assignment import read_assignment
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
def create_assignment(body: AssignmentCreate) -> Response:
    d = deps()
    assignment = AssignmentDetail.model_validate(assign(d.uow(), d.cache, body.driver_id, body.load_id))
    return json_response(assignment, 201, {"Location": f"/assignments/{assignment.id}"})


@bp.get("/assignments/<uuid:assignment_id>")
@endpoint(summary="One assignment with its driver and load", response=AssignmentDetail, tags=["assignments"])
def get_assignment(assignment_id: UUID) -> Response:
    return json_response(AssignmentDetail.model_validate(read_assignment(deps().uow(), assignment_id)))


@bp.patch("/assignments/<uuid:assignment_id>/status")
@endpoint(
    summary="Complete or cancel an assignment (409 from a final state)",
    body=AssignmentStatusUpdate,
    response=AssignmentDetail,
    responses={409: ProblemModel},
    tags=["assignments"],
)
def update_assignment_status(assignment_id: UUID, body: AssignmentStatusUpdate) -> Response:
    d = deps()
    return json_response(AssignmentDetail.model_validate(finish(d.uow(), d.cache, assignment_id, body.status)))
