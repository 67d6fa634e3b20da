"""``/integrations``: each outside API's state (never a credential) and replaying its outbox."""

from __future__ import annotations

from flask import Blueprint
from servicekit import endpoint

from .. import integrations
from ..domain.models import IntegrationList, ReplayResult
from ..wiring import deps
from .responses import json_response

bp = Blueprint("integrations", __name__)


@bp.get("/integrations")
@endpoint(
    summary="Jira, Slack, e-mail, Drive, GitHub: configured or not, pending/failed/done actions, last result",
    response=IntegrationList,
    tags=["integrations"],
)
def list_integrations():
    d = deps()
    return json_response(IntegrationList(items=integrations.integration_states(d.store, d.clients)))


@bp.post("/integrations/<name>/replay")
@endpoint(
    summary="Make every pending or failed action of an integration due now",
    response=ReplayResult,
    tags=["integrations"],
)
def replay(name: str):
    return json_response(integrations.replay(deps().store, name))
