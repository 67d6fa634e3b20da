"""``POST /auth/login``: e-mail and password for a bearer token every service of the suite accepts."""

from __future__ import annotations

from flask import Blueprint, Response, request
from servicekit import ProblemModel, endpoint, public

from ..domain.models import LoginRequest, Token
from ..usecases.login import login as log_in
from ..wiring import deps
from .client_address import client_address
from .responses import json_response

bp = Blueprint("auth", __name__)


@bp.post("/auth/login")
@public
@endpoint(
    summary="Exchange e-mail and password for a bearer token",
    body=LoginRequest,
    response=Token,
    responses={
        401: ProblemModel,
        429: "Too many failed logins for this account or from this address; retry after Retry-After seconds",
    },
    tags=["auth"],
)
def login(body: LoginRequest) -> Response:
    d = deps()
    address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), d.settings.trusted_proxies)
    token = log_in(d.uow(), d.login_throttle, d.token_versions, d.issue_token, d.demo_user.ensure, body, address)
    return json_response(token)
