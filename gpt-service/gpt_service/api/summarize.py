"""POST /summarize-loads."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from servicekit import ProblemModel, endpoint

from ..domain.answers import SummaryResponse
from ..domain.loads import SummarizeRequest
from ..usecases.summarize_loads import summarize_loads as summarize
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
def summarize_loads(body: SummarizeRequest) -> Response:
    """Any bearer token of the suite is accepted: a user's, or a service token from automation-service."""
    d = deps()
    response = summarize(
        body.loads,
        model=d.model,
        cache=d.cache,
        quota_pause=d.quota_pause,
        prompt_token_budget=d.settings.prompt_token_budget,
    )
    return current_app.response_class(response.model_dump_json(), mimetype="application/json")
