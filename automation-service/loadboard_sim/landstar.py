"""The Landstar available-loads stand-in: a server-rendered grid with numbered pages.

Times are Eastern, printed "21 Nov 2026 14:15"; cities upper case; miles sometimes blank.
"""

from __future__ import annotations

import math

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from markupsafe import escape

from . import sessions
from .data import local, price_text
from .faults import suffer

PORTAL = "landstar"
COOKIE = ".LSAUTH"
ZONE = "America/New_York"
FORMAT = "%d %b %Y %H:%M"
blueprint = Blueprint(PORTAL, __name__, template_folder="templates")


@blueprint.get("/")
def home():
    # After signing in, people land on a dashboard, not on the load list.
    user = sessions.current_user(PORTAL, COOKIE)
    if not user:
        return redirect(url_for(".login"))
    return (
        f"<!doctype html><html><head><title>Landstar Online</title></head><body>"
        f"<h1>Welcome, {escape(user)}</h1>"
        f"<a id='open-loads' href='{url_for('.loads')}'>Find loads</a></body></html>"
    )


@blueprint.route("/Account/Login", methods=["GET", "POST"])
def login():
    fault, failure = suffer(PORTAL, "login")
    if failure:
        return failure
    return_url = request.args.get("ReturnUrl") or url_for(".home")
    if not return_url.startswith("/landstar/"):
        return_url = url_for(".home")
    if request.method == "GET":
        return render_template("landstar_login.html", error=None, return_url=return_url)
    settings = current_app.config["SIM"]
    username, password = request.form.get("UserName", ""), request.form.get("Password", "")
    if fault == "login" or (username, password) != (settings.landstar_username, settings.landstar_password):
        return render_template(
            "landstar_login.html",
            return_url=return_url,
            error="The user name or password provided is incorrect.",
        ), 200
    response = make_response(redirect(return_url))
    response.set_cookie(COOKIE, sessions.issue(PORTAL, username), path="/landstar", httponly=True, samesite="Lax")
    return response


@blueprint.get("/loadspublic")
def loads():
    if not sessions.current_user(PORTAL, COOKIE):
        return redirect(url_for(".login", ReturnUrl=request.full_path.rstrip("?")))
    fault, failure = suffer(PORTAL, "list")
    if failure:
        return failure
    all_loads = current_app.config["LOADS"][PORTAL]
    size = current_app.config["SIM"].landstar_page_size
    pages = max(1, math.ceil(len(all_loads) / size))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    rows = [
        {
            "id": load.load_id,
            "origin": f"{load.origin[0].upper()}, {load.origin[1]}",
            "destination": f"{load.destination[0].upper()}, {load.destination[1]}",
            "pickup": local(load.pickup_at, ZONE).strftime(FORMAT),
            "eta": local(load.eta, ZONE).strftime(FORMAT),
            "posted": local(load.posted_at, ZONE).strftime(FORMAT),
            "trailer": load.equipment.upper(),
            "weight": str(load.weight_lbs),
            "miles": "" if load.miles is None else str(load.miles),
            "rate": price_text(load),
        }
        for load in all_loads[(page - 1) * size : page * size]
    ]
    template = "landstar_loads_v2.html" if fault == "layout" else "landstar_loads.html"
    return render_template(template, rows=rows, page=page, pages=pages, total=len(all_loads))
