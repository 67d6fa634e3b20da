"""POST /summarize-loads."""

from __future__ import annotations

from flask import Blueprint, current_app
from servicekit import ProblemModel, endpoint

from ..domain.models import SummarizeRequest, SummaryResponse
from ..wiring import deps

bp = Blueprint("summarize", __name__)


@bp.post("/summarize-loads")
@endpoint(
    summary="Summarise loadboard loads: price trends, route suggestions, a scored note per load",
    body=SummarizeRequest,
    response=SummaryResponse,
    responses={413: ProblemModel},
    tags=["summaries"],
)
def summarize_loads(body: SummarizeRequest):
    """Any bearer token of the suite is accepted: a user's, or a service token from automation-service."""
    response = deps().summarizer.summarize(body.loads)
    return current_app.response_class(response.model_dump_json(), mimetype="application/json")
