"""``/_sim/faults``: arm one-off faults (tests, demos) or clear them."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from .faults import FAULTS, STAGES

blueprint = Blueprint("sim_control", __name__)
PORTALS = ("jbhunt", "landstar")


@blueprint.get("/faults")
def show():
    return jsonify(current_app.config["FAULTS"].state())


@blueprint.post("/faults")
def arm():
    body = request.get_json(silent=True) or {}
    portal, fault = body.get("portal"), body.get("fault")
    stage, times = body.get("stage", "any"), body.get("times", 1)
    if portal not in PORTALS or fault not in FAULTS or stage not in STAGES or not isinstance(times, int) or times < 1:
        return jsonify(error=f"portal in {PORTALS}, fault in {FAULTS}, stage in {STAGES}, times >= 1"), 422
    current_app.config["FAULTS"].arm(portal, fault, stage, times)
    return jsonify(current_app.config["FAULTS"].state()), 201


@blueprint.delete("/faults")
def clear():
    current_app.config["FAULTS"].clear()
    return "", 204
