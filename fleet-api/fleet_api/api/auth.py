"""``POST /auth/login``: e-mail and password for a bearer token every service of the suite accepts."""

from __future__ import annotations

from flask import Blueprint
from servicekit import ProblemModel, endpoint, public

from .. import login as login_flow
from ..domain.models import LoginRequest, Token
from ..wiring import deps
from .responses import json_response

bp = Blueprint("auth", __name__)


@bp.post("/auth/login")
@public
@endpoint(
    summary="Exchange e-mail and password for a bearer token",
    body=LoginRequest,
    response=Token,
    responses={401: ProblemModel},
    tags=["auth"],
)
def login(body: LoginRequest):
    return json_response(login_flow.login(deps(), body))
