"""/runs: start an extraction run, follow it, list recent ones."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from servicekit import ProblemModel, endpoint
from servicekit.domain_errors import Conflict

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
    try:
        run = start_extraction_run(
            dependencies.uow(),
            dependencies.runs,
            trigger="api",
            requested_by=g.get("claims", {}).get("sub"),
            portals=settings.portal_names(),
            stale_after_seconds=settings.run_stale_after_seconds,
        )
    except Conflict as refused:
        # A refused start points at the run in progress, as a 202 points at the new one.
        if refused.facts.get("run_id"):
            refused.location = f"/runs/{refused.facts['run_id']}"
        raise
    body = _run(run)
    return body, 202, {"Location": f"/runs/{body['id']}"}


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
