"""``/integrations``: each outside API's state (never a credential), its dead letter, and replaying."""

from __future__ import annotations

from flask import Blueprint
from servicekit import ProblemModel, endpoint

from .. import integrations
from ..domain.models import ActionReplayResult, IntegrationList, ReplayResult
from ..wiring import deps
from .responses import json_response

bp = Blueprint("integrations", __name__)


@bp.get("/integrations")
@endpoint(
    summary="Jira, Slack, e-mail, Drive, GitHub: enabled or disabled, pending/held/failed/done actions, "
    "last result, the dead letter",
    response=IntegrationList,
    tags=["integrations"],
)
def list_integrations():
    d = deps()
    return json_response(IntegrationList(items=integrations.integration_states(d.store, d.clients)))


@bp.post("/integrations/<name>/replay")
@endpoint(
    summary="Make every pending, held or dead-lettered action of an integration due now",
    response=ReplayResult,
    tags=["integrations"],
)
def replay(name: str):
    return json_response(integrations.replay(deps().store, name))


@bp.post("/integrations/actions/<action_id>/replay")
@endpoint(
    summary="Send one action again by its id (from the dead letter, or held)",
    response=ActionReplayResult,
    responses={404: ProblemModel},
    tags=["integrations"],
)
def replay_action(action_id: str):
    return json_response(integrations.replay_action(deps().store, action_id))
