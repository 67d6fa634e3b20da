"""The J.B. Hunt load board stand-in: a map view with a list tab filled by XHR JSON, loaded on scroll.

Times are Central, printed "11/21/2026 02:15 PM"; rates mix "$2,350.00", "2350", "" and "Call".
"""

from __future__ import annotations

import math

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request, url_for
from markupsafe import escape

from . import sessions
from .data import SimLoad, local, price_text
from .faults import suffer

PORTAL = "jbhunt"
COOKIE = "JBH_SESSION"
ZONE = "America/Chicago"
FORMAT = "%m/%d/%Y %I:%M %p"
blueprint = Blueprint(PORTAL, __name__, template_folder="templates")


def _row(load: SimLoad) -> dict:
    return {
        "loadNumber": load.load_id,
        "origin": {"city": load.origin[0], "state": load.origin[1]},
        "destination": {"city": load.destination[0], "state": load.destination[1]},
        "postedDate": local(load.posted_at, ZONE).strftime(FORMAT),
        "pickupDate": local(load.pickup_at, ZONE).strftime(FORMAT),
        "deliveryEta": local(load.eta, ZONE).strftime(FORMAT),
        "rate": price_text(load),
        "equipment": load.equipment,
        "weight": f"{load.weight_lbs:,} lbs",
        "miles": load.miles,
    }


@blueprint.get("/")
def home():
    # After signing in, people land on a dashboard, not on the load list.
    user = sessions.current_user(PORTAL, COOKIE)
    if not user:
        return redirect(url_for(".login"))
    return (
        f"<!doctype html><html><head><title>J.B. Hunt 360</title></head><body>"
        f"<h1>Welcome, {escape(user)}</h1>"
        f"<a id='open-loads' href='{url_for('.board')}'>Find loads</a></body></html>"
    )


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    fault, failure = suffer(PORTAL, "login")
    if failure:
        return failure
    next_url = request.args.get("next") or url_for(".home")
    if not next_url.startswith("/jbhunt/"):
        next_url = url_for(".home")
    if request.method == "GET":
        return render_template("jbhunt_login.html", error=None, next_url=next_url)
    settings = current_app.config["SIM"]
    username, password = request.form.get("username", ""), request.form.get("password", "")
    if fault == "login" or (username, password) != (settings.jbhunt_username, settings.jbhunt_password):
        return render_template("jbhunt_login.html", error="Invalid username or password.", next_url=next_url), 401
    response = make_response(redirect(next_url))
    response.set_cookie(COOKIE, sessions.issue(PORTAL, username), path="/jbhunt", httponly=True, samesite="Lax")
    return response


@blueprint.get("/loadboard/map")
def board():
    if not sessions.current_user(PORTAL, COOKIE):
        return redirect(url_for(".login", next=request.full_path.rstrip("?")))
    fault, failure = suffer(PORTAL, "list")
    if failure:
        return failure
    template = "jbhunt_board_v2.html" if fault == "layout" else "jbhunt_board.html"
    return render_template(template, page_size=current_app.config["SIM"].jbhunt_page_size)


@blueprint.get("/api/loads")
def api_loads():
    if not sessions.current_user(PORTAL, COOKIE):
        return jsonify(error="unauthenticated"), 401
    _, failure = suffer(PORTAL, "api")
    if failure:
        return jsonify(error="upstream error"), 500
    loads = current_app.config["LOADS"][PORTAL]
    size = max(1, min(request.args.get("pageSize", current_app.config["SIM"].jbhunt_page_size, type=int), 50))
    pages = max(1, math.ceil(len(loads) / size))
    page = max(1, request.args.get("page", 1, type=int))
    chunk = loads[(page - 1) * size : page * size]
    return jsonify(
        page=page,
        pageSize=size,
        totalPages=pages,
        totalCount=len(loads),
        timeZone="CT",
        loads=[_row(load) for load in chunk],
    )
