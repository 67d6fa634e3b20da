"""`/assign`, `/update` and `/assignments`: the day's packages to drivers, their status, and reading them back."""

from __future__ import annotations

import re

from flask import Blueprint, Response, g, request
from pydantic import BaseModel
from servicekit import ProblemModel, endpoint
from servicekit.domain_errors import Invalid

from ..domain.models import Assignment as AssignmentModel
from ..domain.models import AssignmentPage, AssignmentsQuery, AssignRequest, AssignResponse, UpdateRequest
from ..usecases.assign_day import assign_day
from ..usecases.list_assignments import list_assignments as list_page
from ..usecases.update_status import update_status
from ..wiring import deps

bp = Blueprint("assignments", __name__)
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _json(model: BaseModel, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status=status_code, mimetype="application/json")


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise Invalid(
            "Invalid: header.Idempotency-Key (1-64 of A-Z a-z 0-9 _ . : -)",
            errors=[{"loc": "header.Idempotency-Key", "msg": "1-64 of A-Z a-z 0-9 _ . : -", "type": "pattern"}],
        )
    return key


@bp.post("/assign")
@endpoint(
    summary="Assign the most packages possible to the drivers, at most max_per_driver each",
    body=AssignRequest,
    response=AssignResponse,
    # 409: another run holds the day past ASSIGN_WAIT_SECONDS (Retry-After, run_id); 422 also for an
    # Idempotency-Key reused with another body and a day over the memory budget.
    responses={404: ProblemModel, 409: ProblemModel, 413: ProblemModel, 503: ProblemModel},
    tags=["assignments"],
)
def assign(body: AssignRequest) -> Response:
    d = deps()
    return _json(
        assign_day(
            d.uow(),
            body,
            _idempotency_key(),
            g.get("request_id"),
            terms=d.lease_terms,
            memory_budget_bytes=d.settings.assign_memory_budget_bytes,
            clock=d.clock,
            checkpoint=d.checkpoint,
        )
    )


@bp.post("/update")
@endpoint(
    summary="Move an assignment to another status (404: no such pair; 409: transition not allowed)",
    body=UpdateRequest,
    response=AssignmentModel,
    responses={404: ProblemModel, 409: ProblemModel, 413: ProblemModel, 503: ProblemModel},
    tags=["assignments"],
)
def update(body: UpdateRequest) -> Response:
    d = deps()
    return _json(update_status(d.uow(), body, g.get("request_id"), d.clock))


@bp.get("/assignments")
@endpoint(
    summary="Assignments by driver, day and status, a page at a time",
    query=AssignmentsQuery,
    response=AssignmentPage,
    responses={404: ProblemModel, 503: ProblemModel},
    tags=["assignments"],
)
def list_assignments(query: AssignmentsQuery) -> Response:
    return _json(list_page(deps().uow(), query))
