"""``/batches/run``: the daily ingredient batch, by hand."""

from __future__ import annotations

from flask import Blueprint
from servicekit import endpoint

from .. import batches
from ..domain.models import BatchResult
from ..wiring import deps
from .responses import json_response

bp = Blueprint("batches", __name__)


@bp.post("/batches/run")
@endpoint(
    summary="One Jira ticket for every order no ticket covers yet (running it again creates none)",
    response=BatchResult,
    tags=["batches"],
)
def run_batch():
    d = deps()
    return json_response(batches.run_batch(d.store, d.settings, "api"))
