"""/runs: start an extraction run, follow it, list recent ones."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, g, request
from servicekit import ProblemModel, endpoint

from ..domain.models import Run, RunList, RunQuery
from ..usecases.read_runs import list_runs as recent_runs
from ..usecases.read_runs import read_run
from ..usecases.start_run import start_run as start_extraction_run
from ..wiring import deps

blueprint = Blueprint("runs", __name__)


def _run(run: Run) -> dict[str, Any]:
    body = run.model_dump(mode="json")
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
def start_run() -> tuple[dict[str, Any], int, dict[str, str]]:
    dependencies = deps()
    settings = dependencies.settings
    run = start_extraction_run(
        dependencies.uow(),
        dependencies.runs,
        trigger="api",
        requested_by=g.get("claims", {}).get("sub"),
        portals=settings.portal_names(),
        stale_after_seconds=settings.run_stale_after_seconds,
    )
    body = _run(run)
    return body, 202, {"Location": f"/runs/{body['id']}"}


@blueprint.after_request
def _locate_the_running_run(response: Response) -> Response:
    """A refused start (409, ``run_id`` in the problem) points at the run in progress, as a 202 at the new one."""
    if request.endpoint == "runs.start_run" and response.status_code == 409:
        # The answer's own problem body (servicekit wrote it from the refusal's facts), not a request's.
        problem = json.loads(response.get_data(as_text=True) or "{}")
        if isinstance(problem, dict) and problem.get("run_id"):
            response.headers["Location"] = f"/runs/{problem['run_id']}"
    return response


@blueprint.get("/runs")
@endpoint(summary="Recent runs, newest first", query=RunQuery, response=RunList, tags=["runs"])
def list_runs(query: RunQuery) -> dict[str, Any]:
    return {"runs": [_run(run) for run in recent_runs(deps().uow(), query)]}


@blueprint.get("/runs/<run_id>")
@endpoint(
    summary="A run's state, per-portal progress, counts and errors",
    response=Run,
    responses={404: ProblemModel},
    tags=["runs"],
)
def get_run(run_id: str) -> dict[str, Any]:
    return _run(read_run(deps().uow(), run_id))
