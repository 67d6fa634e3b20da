"""Bodies nested too deep are refused before parsing; the OpenAPI document says what the code sends."""

from __future__ import annotations

import time
from enum import StrEnum

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel
from servicekit import ApiProblem, create_app, endpoint
from servicekit.validation import json_depth_exceeds
from servicekit_sample import SECRET, Settings, build_app


@pytest.mark.parametrize(
    "raw, limit, expected",
    [
        (b"[[[]]]", 3, False),
        (b"[[[[]]]]", 3, True),
        (b'{"a": {"b": [1, {"c": 2}]}}', 4, False),
        (b'{"a": {"b": [1, {"c": {}}]}}', 4, True),
        (b'["[[[[[[[[", "{{{{{{{{"]', 1, False),  # brackets inside strings are text
        (b'["\\"[[[[[[[[", "\\\\", [[]]]', 2, True),  # escaped quotes do not end a string; \\ does not escape
        (b'["\\"[[[[[[[[", "\\\\", [[]]]', 3, False),
        (b"[]" * 10_000, 1, False),  # many shallow values are fine
    ],
)
def test_depth_is_judged_on_the_raw_bytes(raw: bytes, limit: int, expected: bool) -> None:
    assert json_depth_exceeds(raw, limit) is expected


def test_the_scan_stays_linear_on_large_bodies() -> None:
    shallow = b"[" + b'{"k": "v", "n": [1, 2]}, ' * 40_000 + b"{}]"  # about 1 MB of shallow structure
    started = time.perf_counter()
    assert not json_depth_exceeds(shallow, 64)
    assert json_depth_exceeds(b"[" * 1_000_000, 64)
    assert time.perf_counter() - started < 5  # a quadratic scan of 1 MB would take minutes


def test_a_deep_body_is_a_400_naming_the_limit(client, auth) -> None:
    response = client.post("/items", data="[" * 500 + "]" * 500, headers=auth, content_type="application/json")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "64 levels" in response.get_json()["detail"]


def test_a_body_at_the_limit_reaches_validation(client, auth) -> None:
    response = client.post("/items", data="[" * 64 + "]" * 64, headers=auth, content_type="application/json")
    assert response.status_code == 422


def test_the_limit_is_a_setting(tmp_path) -> None:
    app = build_app(Settings(jwt_secret=SECRET, log_dir=tmp_path, max_json_depth=2))
    from servicekit import issue_token

    headers = {"Authorization": f"Bearer {issue_token(app.config['SETTINGS'], 'u')[0]}"}
    client = app.test_client()
    deep = client.post("/items", data='{"name": {"a": [1]}}', headers=headers, content_type="application/json")
    assert deep.status_code == 400 and "2 levels" in deep.get_json()["detail"]
    flat = client.post("/items", data='{"name": {"a": 1}}', headers=headers, content_type="application/json")
    assert flat.status_code == 422


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Filter(BaseModel):
    colour: Colour | None = None


class Paint(BaseModel):
    name: str
    tags: dict[str, str] = {}


class Conflict(BaseModel):
    reason: str


@pytest.fixture()
def contract_app(tmp_path):
    app = create_app(Settings(jwt_secret=SECRET, log_dir=tmp_path), import_name=__name__, title="contract")

    @app.get("/paints")
    @endpoint(query=Filter)
    def list_paints(query: Filter):
        return {"colour": query.colour}

    @app.post("/paints")
    @endpoint(body=Paint, response=Paint, status=201, responses={409: Conflict, 410: "Gone for good"})
    def create_paint(body: Paint):
        raise ApiProblem(409, "Conflict", "Exists.")

    return app


def test_the_document_validates_and_every_reference_resolves(contract_app) -> None:
    document = contract_app.test_client().get("/openapi.json").get_json()
    validate(document)
    colour = document["paths"]["/paints"]["get"]["parameters"][0]["schema"]
    refs = [option["$ref"] for option in colour["anyOf"] if "$ref" in option]
    assert refs == ["#/components/schemas/Colour"] and "Colour" in document["components"]["schemas"]


def test_error_statuses_are_problem_json_whatever_model_was_given(contract_app) -> None:
    document = contract_app.test_client().get("/openapi.json").get_json()
    responses = document["paths"]["/paints"]["post"]["responses"]
    for status in ("400", "401", "409", "410", "413", "415", "422", "503"):
        assert list(responses[status]["content"]) == ["application/problem+json"], status
        assert responses[status]["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/ProblemModel"
        }
    assert responses["410"]["description"] == "Gone for good"
    assert responses["503"]["headers"]["Retry-After"]["required"] is True
    assert list(responses["201"]["content"]) == ["application/json"]


def test_request_strings_declare_that_nul_is_refused(contract_app) -> None:
    document = contract_app.test_client().get("/openapi.json").get_json()
    paint = document["components"]["schemas"]["Paint"]
    assert paint["properties"]["name"]["pattern"] == "^[^\\x00]*$"
    assert paint["properties"]["tags"]["additionalProperties"]["pattern"] == "^[^\\x00]*$"
    assert paint["propertyNames"] == {"pattern": "^[^\\x00]*$"}
    # Extra fields pydantic ignores are still read for NULs: the document says what they may hold.
    assert paint["additionalProperties"] == {"$ref": "#/components/schemas/JsonWithoutNul"}
    client = contract_app.test_client()
    from servicekit import issue_token

    headers = {"Authorization": f"Bearer {issue_token(contract_app.config['SETTINGS'], 'u')[0]}"}
    refused = client.post("/paints", json={"name": "ok", "extra": ["a\x00"]}, headers=headers)
    assert refused.status_code == 422


def test_plumbing_endpoints_declare_their_media_types(client) -> None:
    document = client.get("/openapi.json").get_json()
    assert list(document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    assert list(document["paths"]["/docs"]["get"]["responses"]["200"]["content"]) == ["text/html"]
    readyz = document["paths"]["/readyz"]["get"]["responses"]
    assert list(readyz["503"]["content"]) == ["application/json"]
    assert "503" not in document["paths"]["/healthz"]["get"]["responses"]


def test_metrics_name_their_charset_once(client) -> None:
    content_type = client.get("/metrics").headers["Content-Type"]
    assert content_type.startswith("text/plain") and content_type.count("charset=") == 1
