"""The web page (``/`` → ``/ui``): server-rendered HTML plus a little JavaScript that calls this API with
the suite's token. Signing in goes through ``POST /ui/login``, which forwards to the suite's login, so the
browser talks to one origin only."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from servicekit import ProblemModel, endpoint, public

from ..domain.models import LoginRequest, Token
from ..usecases.sign_in import sign_in
from ..wiring import deps
from .responses import json_response

bp = Blueprint("ui", __name__)


@bp.get("/")
@public
@endpoint(summary="The web page lives at /ui", status=302, tags=["ui"])
def home() -> ResponseReturnValue:
    return redirect("/ui", code=302)


@bp.get("/ui")
@public
@endpoint(summary="The bakery's web page (HTML)", tags=["ui"])
def page() -> Response:
    # servicekit adds the security headers of every HTML page (strict CSP, no framing, nosniff, no referrer).
    html = render_template("bakery.html")
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


@bp.post("/ui/login")
@public
@endpoint(
    summary="Sign in with the suite's login (forwarded to AUTH_LOGIN_URL); answers a bearer token",
    body=LoginRequest,
    response=Token,
    responses={401: ProblemModel, 429: ProblemModel, 503: ProblemModel},
    tags=["ui"],
)
def login(body: LoginRequest) -> Response:
    return json_response(sign_in(deps().login, body.email, body.password, client_address=request.remote_addr))
