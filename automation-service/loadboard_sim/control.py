"""``/_sim/faults``: arm one-off faults (tests, demos) or clear them."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from servicekit import parse_body

blueprint = Blueprint("sim_control", __name__)


class ArmFault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    portal: Literal["jbhunt", "landstar"]
    fault: Literal["slow", "500", "login", "layout"]
    stage: Literal["login", "list", "api", "any"] = "any"
    times: StrictInt = Field(1, ge=1, le=1000)


@blueprint.get("/faults")
def show():
    return jsonify(current_app.config["FAULTS"].state())


@blueprint.post("/faults")
def arm():
    # Through servicekit's body parsing: 415 for non-JSON, 400 for malformed or too deeply nested JSON,
    # 422 (problem+json) for anything else the model refuses.
    body = parse_body(ArmFault)
    current_app.config["FAULTS"].arm(body.portal, body.fault, body.stage, body.times)
    return jsonify(current_app.config["FAULTS"].state()), 201


@blueprint.delete("/faults")
def clear():
    current_app.config["FAULTS"].clear()
    return "", 204
