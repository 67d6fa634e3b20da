"""``/webhooks/jira``: signed by Jira (X-Hub-Signature), no token; closed + missing-ingredients cancels."""

from __future__ import annotations

from flask import Blueprint, Response, request
from servicekit import ProblemModel, endpoint, public

from ..domain.models import WebhookResult
from ..usecases.handle_jira_webhook import handle_jira_webhook
from ..wiring import deps
from .responses import json_response

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/jira")
@public
@endpoint(
    summary="Jira issue events; a ticket closed with the label missing-ingredients cancels its orders",
    response=WebhookResult,
    responses={401: ProblemModel, 422: ProblemModel},
    tags=["webhooks"],
)
def jira_webhook() -> Response:
    d = deps()
    # The signature covers the bytes as sent, so they are read raw, before any JSON parsing.
    body = request.get_data(cache=True)
    signature = request.headers.get("X-Hub-Signature")
    return json_response(handle_jira_webhook(d.uow(), d.settings.webhook_secret(), body, signature))
