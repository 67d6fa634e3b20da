"""``/integrations``: each outside API's state (never a credential), its dead letter, and replaying."""

from __future__ import annotations

from flask import Blueprint, Response
from servicekit import ProblemModel, endpoint

from ..domain.models import ActionReplayResult, IntegrationList, ReplayResult
from ..usecases import replay_actions
from ..usecases.integration_status import integration_states
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
def list_integrations() -> Response:
    d = deps()
    return json_response(IntegrationList(items=integration_states(d.actions(), d.clients.configured)))


@bp.post("/integrations/<name>/replay")
@endpoint(
    summary="Make every pending, held or dead-lettered action of an integration due now",
    response=ReplayResult,
    tags=["integrations"],
)
def replay(name: str) -> Response:
    return json_response(replay_actions.replay(deps().actions(), name))


@bp.post("/integrations/actions/<action_id>/replay")
@endpoint(
    summary="Send one action again by its id (from the dead letter, or held)",
    response=ActionReplayResult,
    responses={404: ProblemModel},
    tags=["integrations"],
)
def replay_action(action_id: str) -> Response:
    return json_response(replay_actions.replay_action(deps().actions(), action_id))
