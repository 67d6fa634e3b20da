"""/runs: start an extraction run, follow it, list recent ones."""

from __future__ import annotations

import uuid

from flask import Blueprint, g
from servicekit import ApiProblem, ProblemModel, endpoint

from ..adapters.postgres import RunInProgress
from ..domain.models import Run, RunList, RunQuery
from ..wiring import deps

blueprint = Blueprint("runs", __name__)


def _run(row: dict) -> dict:
    body = Run.model_validate(row).model_dump(mode="json")
    # A portal's progress shows only what it has reached so far.
    body["portals"] = {
        name: {k: v for k, v in fields.items() if v is not None} for name, fields in body["portals"].items()
    }
    return body


@blueprint.post("/runs")
@endpoint(
    summary="Start an extraction run of both portals; returns its id at once",
    response=Run,
    status=202,
    responses={409: ProblemModel},
    tags=["runs"],
)
def start_run():
    try:
        run = deps().runs.start(trigger="api", requested_by=g.get("claims", {}).get("sub"))
    except RunInProgress as exc:
        raise ApiProblem(
            409,
            "Run in progress",
            f"Run {exc.run_id} is still running; wait for it to finish.",
            run_id=exc.run_id,
            headers={"Location": f"/runs/{exc.run_id}"},
        ) from None
    body = _run(run)
    return body, 202, {"Location": f"/runs/{body['id']}"}


@blueprint.get("/runs")
@endpoint(summary="Recent runs, newest first", query=RunQuery, response=RunList, tags=["runs"])
def list_runs(query: RunQuery):
    rows = deps().repository.list_runs(query.limit, query.status)
    return {"runs": [_run(row) for row in rows]}


@blueprint.get("/runs/<run_id>")
@endpoint(
    summary="A run's state, per-portal progress, counts and errors",
    response=Run,
    responses={404: ProblemModel},
    tags=["runs"],
)
def get_run(run_id: str):
    try:
        uuid.UUID(run_id)
    except ValueError:
        raise ApiProblem(404, "Not Found", f"No run {run_id!r}: run ids are UUIDs.") from None
    row = deps().repository.get_run(run_id)
    if row is None:
        raise ApiProblem(404, "Not Found", f"No run {run_id}.")
    return _run(row)
