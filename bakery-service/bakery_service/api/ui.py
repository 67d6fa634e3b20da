"""The web page (``/`` → ``/ui``): server-rendered HTML plus a little JavaScript that calls this API with
the suite's token. Signing in goes through ``POST /ui/login``, which forwards to the suite's login, so the
browser talks to one origin only."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request
from servicekit import ApiProblem, ProblemModel, endpoint, public

from ..adapters.login import LoginRefused
from ..domain.models import LoginRequest, Token
from ..wiring import deps
from .responses import json_response

bp = Blueprint("ui", __name__)


@bp.get("/")
@public
@endpoint(summary="The web page lives at /ui", status=302, tags=["ui"])
def home():
    return redirect("/ui", code=302)


@bp.get("/ui")
@public
@endpoint(summary="The bakery's web page (HTML)", tags=["ui"])
def page():
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
def login(body: LoginRequest):
    try:
        token = deps().login.login(body.email, body.password, client_address=request.remote_addr)
    except LoginRefused as exc:
        headers = {"Retry-After": str(exc.retry_after or 5)} if exc.status in (429, 503) else None
        raise ApiProblem(exc.status, "Sign-in failed", exc.detail, headers=headers) from None
    return json_response(Token(access_token=token["access_token"], expires_in=token["expires_in"]))
