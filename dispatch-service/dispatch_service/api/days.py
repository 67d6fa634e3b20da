"""`/days/<date>/manifest`: a day's lists of drivers and packages, uploaded whole and read back."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, request
from pydantic import TypeAdapter, ValidationError
from servicekit import ApiProblem, ProblemModel, endpoint

from .. import manifests
from ..domain.models import Manifest, ManifestStored
from ..wiring import deps

bp = Blueprint("days", __name__)
_date = TypeAdapter(dt.date)


@bp.before_request
def _large_bodies_for_manifests() -> None:
    # Only this route takes day lists of many megabytes; every other keeps servicekit's 1 MiB limit.
    if request.endpoint == "days.upload_manifest":
        request.max_content_length = deps().settings.manifest_max_bytes


def parse_day(value: str) -> dt.date:
    try:
        return _date.validate_python(value)
    except ValidationError:
        raise ApiProblem(
            422,
            "Validation failed",
            "Invalid: path.date (a day as YYYY-MM-DD)",
            errors=[{"loc": "path.date", "msg": "a day as YYYY-MM-DD", "type": "date_from_datetime_parsing"}],
        ) from None


@bp.post("/days/<date>/manifest")
@endpoint(
    summary="Store the day's lists of drivers and packages (replaces earlier ones; up to 64 MiB)",
    body=Manifest,
    response=ManifestStored,
    status=201,
    responses={413: ProblemModel, 503: ProblemModel},
    tags=["days"],
)
def upload_manifest(date: str, body: Manifest):
    stored = manifests.store(deps(), parse_day(date), body)
    return Response(stored.model_dump_json(), status=201, mimetype="application/json")


@bp.get("/days/<date>/manifest")
@endpoint(
    summary="The day's lists as stored",
    response=Manifest,
    responses={404: ProblemModel, 422: ProblemModel, 503: ProblemModel},
    tags=["days"],
)
def read_manifest(date: str):
    return Response(manifests.raw(deps(), parse_day(date)), mimetype="application/json")
