"""``/openapi.json`` of loadboard-sim: what the two portal stand-ins answer, as the extraction meets them.

Written out rather than derived: the simulator imitates portals whose contract is theirs (HTML pages, form
logins, cookies, redirects, their own JSON), not servicekit's. tests/test_schemathesis.py holds every
operation to it and automation-service's unit tests check that it lists every route and nothing else.
"""

from __future__ import annotations

from typing import Any

from servicekit.errors import PROBLEM_MEDIA_TYPE, ProblemModel
from servicekit.health import Health, Readiness

from .faults import FAULTS, STAGES

PORTALS = ["jbhunt", "landstar"]
SCHEMA = "#/components/schemas/"


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _json(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": SCHEMA + schema}}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": SCHEMA + "Problem"}}}}


# What servicekit.bodies refuses in any body the simulator reads (its login forms).
_BODY_REFUSALS = {
    413: _problem("Body larger than 1 MiB (SIM_MAX_CONTENT_LENGTH), however it is framed or compressed"),
    415: _problem("A Content-Encoding other than gzip or deflate"),
}


def _redirect(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"Location": {"required": True, "schema": {"type": "string"}}},
        "content": {"text/html": {"schema": {"type": "string"}}},
    }


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or {}}


def _form(*fields: str, required: bool = True) -> dict[str, Any]:
    schema = {"type": "object", "properties": {name: {"type": "string"} for name in fields}}
    return {"required": required, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def _op(summary: str, responses: dict[int, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {str(status): entry for status, entry in responses.items()}, **extra}


def _with_faults(op: dict[str, Any], failure: dict[str, Any]) -> dict[str, Any]:
    """A page that a per-request fault (``?fault=`` or ``X-Sim-Fault``) can slow down or fail."""
    op.setdefault("parameters", []).extend(
        [
            _query("fault", "A fault for this request only", {"type": "string", "enum": list(FAULTS)}),
            {"name": "X-Sim-Fault", "in": "header", "required": False, "schema": {"type": "string"}},
        ]
    )
    op["responses"]["500"] = failure
    return op


def build_document(control_enabled: bool) -> dict[str, Any]:
    page = _query("page", "Page number; anything but a whole number means page 1")
    paths: dict[str, Any] = {
        "/": {"get": _op("Redirect to the J.B. Hunt load board", {302: _redirect("To /jbhunt/loadboard/map")})},
        "/healthz": {"get": _op("The process answers", {200: _json("Alive", "Health")})},
        "/readyz": {
            "get": _op(
                "Both portals have their loads",
                {200: _json("Ready", "Readiness"), 503: _json("Not ready", "Readiness")},
            )
        },
        "/openapi.json": {
            "get": _op(
                "This document",
                {200: {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}},
            )
        },
        "/jbhunt/": {
            "get": _op("Dashboard after sign-in", {200: _html("Welcome page"), 302: _redirect("To the login page")})
        },
        "/jbhunt/login": {
            "get": _op(
                "Login form",
                {200: _html("The form")},
                parameters=[_query("next", "Where to go after sign-in (a /jbhunt/ path)", {"type": "string"})],
            ),
            "post": _op(
                "Sign in (cookie JBH_SESSION)",
                {
                    302: _redirect("Signed in: to `next`"),
                    401: _html("The form again, with the portal's message"),
                    **_BODY_REFUSALS,
                },
                parameters=[_query("next", "Where to go after sign-in (a /jbhunt/ path)", {"type": "string"})],
                requestBody=_form("username", "password"),
            ),
        },
        "/jbhunt/loadboard/map": {
            "get": _op("Map view with the list tab", {200: _html("The board"), 302: _redirect("To the login page")})
        },
        "/jbhunt/api/loads": {
            "get": _op(
                "One page of loads, as the board's XHR reads them",
                {200: _json("A page of loads", "JbhuntPage"), 401: _json("No session", "PortalError")},
                parameters=[page, _query("pageSize", "Rows per page, 1 to 50; anything else means the default")],
            )
        },
        "/landstar/": {
            "get": _op("Dashboard after sign-in", {200: _html("Welcome page"), 302: _redirect("To the login page")})
        },
        "/landstar/Account/Login": {
            "get": _op(
                "Login form",
                {200: _html("The form")},
                parameters=[_query("ReturnUrl", "Where to go after sign-in (a /landstar/ path)", {"type": "string"})],
            ),
            "post": _op(
                "Sign in (cookie .LSAUTH); refused credentials get the form again with 200, as the portal does",
                {
                    200: _html("The form with the portal's message"),
                    302: _redirect("Signed in: to `ReturnUrl`"),
                    **_BODY_REFUSALS,
                },
                parameters=[_query("ReturnUrl", "Where to go after sign-in (a /landstar/ path)", {"type": "string"})],
                # Like the portal: a post without a form is a failed sign-in, answered with the form.
                requestBody=_form("UserName", "Password", required=False),
            ),
        },
        "/landstar/loadspublic": {
            "get": _op(
                "Server-rendered grid of loads with a pager",
                {200: _html("One page of the grid"), 302: _redirect("To the login page")},
                parameters=[page],
            )
        },
    }
    if control_enabled:
        for path in ("/jbhunt/login", "/landstar/Account/Login", "/jbhunt/loadboard/map", "/landstar/loadspublic"):
            for op in paths[path].values():
                _with_faults(op, _html("A simulated portal failure"))
        _with_faults(paths["/jbhunt/api/loads"]["get"], _json("A simulated portal failure", "PortalError"))
        paths["/_sim/faults"] = {
            "get": _op("Configured and armed faults", {200: _json("Faults", "FaultState")}),
            "post": _op(
                "Arm a one-off fault",
                {
                    201: _json("Armed", "FaultState"),
                    400: _problem("Malformed JSON, a repeated key, or nested too deep"),
                    413: _problem("Body larger than 1 MiB, however it is framed or compressed"),
                    415: _problem("Not UTF-8 JSON, or a Content-Encoding other than gzip or deflate"),
                    422: _problem("Unknown portal, fault or stage, or times < 1"),
                },
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": SCHEMA + "ArmFault"}}},
                },
            ),
            "delete": _op("Clear every armed fault", {204: {"description": "Cleared"}}),
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "loadboard-sim", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": _schemas()},
    }


def _schemas() -> dict[str, Any]:
    place = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "state": {"type": "string"}},
        "required": ["city", "state"],
    }
    row_fields = ("loadNumber", "postedDate", "pickupDate", "deliveryEta", "rate", "equipment", "weight")
    row = {
        "type": "object",
        "properties": {
            **{name: {"type": "string"} for name in row_fields},
            "origin": place,
            "destination": place,
            "miles": {"type": ["integer", "null"]},
        },
        "required": [*row_fields, "origin", "destination", "miles"],
    }
    counts = ("page", "pageSize", "totalPages", "totalCount")
    return {
        "Health": Health.model_json_schema(),
        "Readiness": Readiness.model_json_schema(),
        "Problem": ProblemModel.model_json_schema(),
        "PortalError": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
        "JbhuntPage": {
            "type": "object",
            "properties": {
                **{name: {"type": "integer"} for name in counts},
                "timeZone": {"type": "string"},
                "loads": {"type": "array", "items": row},
            },
            "required": [*counts, "timeZone", "loads"],
        },
        "ArmFault": {
            "type": "object",
            "properties": {
                "portal": {"type": "string", "enum": PORTALS},
                "fault": {"type": "string", "enum": list(FAULTS)},
                "stage": {"type": "string", "enum": list(STAGES), "default": "any"},
                "times": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1},
            },
            "required": ["portal", "fault"],
            "additionalProperties": False,
        },
        "FaultState": {
            "type": "object",
            "properties": {"configured": {"type": "object"}, "armed": {"type": "object"}},
            "required": ["configured", "armed"],
        },
    }
