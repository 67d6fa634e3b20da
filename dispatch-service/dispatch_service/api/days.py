"""`/days/<date>/manifest`: a day's lists of drivers and packages, uploaded whole and read back."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response
from servicekit import ProblemModel, endpoint

from ..domain.models import Manifest, ManifestStored
from ..usecases.read_manifest import read_manifest as read_lists
from ..usecases.store_manifest import store_manifest
from ..wiring import deps

bp = Blueprint("days", __name__)


@bp.post("/days/<date:date>/manifest")
@endpoint(
    summary="Store the day's lists of drivers and packages (replaces earlier ones; up to 64 MiB)",
    body=Manifest,
    response=ManifestStored,
    status=201,
    responses={409: ProblemModel, 413: ProblemModel, 503: ProblemModel},
    tags=["days"],
    # Only this route takes day lists of many megabytes; every other keeps servicekit's 1 MiB limit.
    max_body_bytes=lambda: deps().settings.manifest_max_bytes,
)
def upload_manifest(date: dt.date, body: Manifest) -> Response:
    stored = store_manifest(deps().uow(), date, body)
    return Response(stored.model_dump_json(), status=201, mimetype="application/json")


@bp.get("/days/<date:date>/manifest")
@endpoint(
    summary="The day's lists as stored",
    response=Manifest,
    responses={404: ProblemModel, 422: ProblemModel, 503: ProblemModel},
    tags=["days"],
)
def read_manifest(date: dt.date) -> Response:
    return Response(read_lists(deps().uow(), date), mimetype="application/json")
