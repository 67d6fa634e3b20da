"""``/batches/run``: the daily ingredient batch, by hand."""

from __future__ import annotations

from flask import Blueprint, Response
from servicekit import endpoint

from ..domain.models import BatchResult
from ..usecases.run_batch import run_batch
from ..wiring import deps
from .responses import json_response

bp = Blueprint("batches", __name__)


@bp.post("/batches/run")
@endpoint(
    summary="One Jira ticket for every order no ticket covers yet (running it again creates none)",
    response=BatchResult,
    tags=["batches"],
)
def run() -> Response:
    d = deps()
    return json_response(run_batch(d.uow(), d.settings.public_base_url, "api"))
