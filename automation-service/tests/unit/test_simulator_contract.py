"""loadboard-sim answers /readyz and /openapi.json like the services, and its document lists its routes."""

from __future__ import annotations

import re

import pytest
from loadboard_sim import create_app
from loadboard_sim.settings import SimSettings
from openapi_spec_validator import validate


def documented(app) -> set[tuple[str, str]]:
    document = app.test_client().get("/openapi.json").get_json()
    return {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}


def routed(app) -> set[tuple[str, str]]:
    return {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


@pytest.mark.parametrize("control_enabled", [True, False])
def test_the_document_is_valid_and_lists_every_route_and_no_other(control_enabled: bool) -> None:
    app = create_app(SimSettings(control_enabled=control_enabled))
    validate(app.test_client().get("/openapi.json").get_json())
    assert documented(app) == routed(app)
    assert (("/_sim/faults", "POST") in documented(app)) is control_enabled


def test_readiness_names_both_portals() -> None:
    response = create_app(SimSettings()).test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready" and body["service"] == "loadboard-sim"
    assert body["checks"]["jbhunt"]["loads"] == 48 and body["checks"]["landstar"]["loads"] == 45


def test_readiness_is_503_when_a_portal_has_no_loads() -> None:
    response = create_app(SimSettings(landstar_loads=0)).test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["landstar"]["status"] == "down"


def test_per_request_faults_are_test_controls_that_switch_off_with_the_control_endpoint() -> None:
    client = create_app(SimSettings(control_enabled=False)).test_client()
    assert client.get("/landstar/Account/Login", query_string={"fault": "500"}).status_code == 200
    assert client.get("/landstar/Account/Login", headers={"X-Sim-Fault": "500"}).status_code == 200
    assert client.post("/_sim/faults", json={"portal": "jbhunt", "fault": "500"}).status_code == 404


@pytest.mark.parametrize(
    "body, status",
    [
        ("[" * 10_000 + "]" * 10_000, 400),
        ("[]", 422),
        ('{"portal": "jbhunt", "fault": "500", "times": true}', 422),
        ('{"portal": "jbhunt", "fault": "500", "extra": 1}', 422),
        ("{", 400),
    ],
)
def test_arming_a_fault_refuses_hostile_bodies_with_problem_json(body: str, status: int) -> None:
    response = create_app(SimSettings()).test_client().post("/_sim/faults", data=body, content_type="application/json")
    assert response.status_code == status and response.mimetype == "application/problem+json"
