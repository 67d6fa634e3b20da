"""Every service behaves alike: health, metrics, OpenAPI, problem+json errors, a token for everything else."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from servicekit import issue_token
from suite_support import SERVICES, build, fill_path, offline_env
from testkit.servers import free_port

PUBLIC_PATHS = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"}


@pytest.fixture(scope="module", params=list(SERVICES))
def service_app(request):
    return request.param, build(request.param, offline_env(free_port()))


def test_health_metrics_and_docs_answer(service_app) -> None:
    name, app = service_app
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok", "service": name}
    client.get("/healthz")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "flask_http_request_duration_seconds_count" in metrics
    document = client.get("/openapi.json").get_json()
    assert document["info"]["title"] == name
    assert PUBLIC_PATHS <= set(document["paths"])
    assert client.get("/docs").status_code == 200


def test_metrics_content_type_names_its_charset_once(service_app) -> None:
    _, app = service_app
    content_type = app.test_client().get("/metrics").headers["Content-Type"]
    assert content_type.startswith("text/plain") and content_type.count("charset") == 1, content_type


def references(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def test_openapi_document_is_valid_and_every_reference_resolves(service_app) -> None:
    name, app = service_app
    document = app.test_client().get("/openapi.json").get_json()
    validate(document)
    schemas = document["components"]["schemas"]
    for ref in references(document):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, f"{name}: {ref}"


def test_every_error_response_is_documented_as_problem_json(service_app) -> None:
    name, app = service_app
    for path, method, op in operations(app):
        for status, response in op["responses"].items():
            if int(status) >= 400 and not (path == "/readyz" and status == "503"):
                assert list(response.get("content", {})) == ["application/problem+json"], (
                    f"{name} {method.upper()} {path} {status}"
                )
        if path not in PUBLIC_PATHS:
            assert "Retry-After" in op["responses"]["503"]["headers"], f"{name} {method.upper()} {path}"


def test_readiness_names_each_dependency(service_app) -> None:
    _, app = service_app
    response = app.test_client().get("/readyz")
    assert response.status_code in (200, 503)
    body = response.get_json()
    assert body["checks"], "readiness must name at least one dependency"
    for check in body["checks"].values():
        assert check["status"] in ("up", "down")
    if response.status_code == 503:
        assert any(check["status"] == "down" for check in body["checks"].values())


def test_unknown_route_is_problem_404(service_app) -> None:
    _, app = service_app
    response = app.test_client().get("/definitely/not/here")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def operations(app):
    document = app.test_client().get("/openapi.json").get_json()
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_every_other_endpoint_requires_a_token(service_app) -> None:
    _, app = service_app
    client = app.test_client()
    for path, method, op in operations(app):
        if path in PUBLIC_PATHS or "security" not in op:
            continue
        response = client.open(fill_path(path), method=method.upper())
        assert response.status_code == 401, f"{method.upper()} {path} answered {response.status_code}"
        assert response.mimetype == "application/problem+json"


def test_public_operations_are_only_the_documented_ones(service_app) -> None:
    name, app = service_app
    allowed = PUBLIC_PATHS | {"/", "/auth/login", "/jobs/{job_type}", "/webhooks/jira", "/ui"}
    for path, _, op in operations(app):
        if "security" not in op:
            assert path in allowed or path.startswith(("/ui", "/static")), f"{name}: {path} is public"


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{broken", "application/json"),
        ("a=b", "text/plain"),
        ("[]", "application/json"),
        ('{"x": 1}', "application/json"),
    ],
)
def test_malformed_bodies_get_a_problem_4xx(service_app, body, content_type) -> None:
    name, app = service_app
    settings = app.config["SETTINGS"]
    token = issue_token(settings, "contract-test")[0]
    client = app.test_client()
    for path, method, op in operations(app):
        if "requestBody" not in op:
            continue
        response = client.open(
            fill_path(path),
            method=method.upper(),
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        )
        assert 400 <= response.status_code < 500, (
            f"{name} {method.upper()} {path} answered {response.status_code} to {body!r}"
        )
        assert response.mimetype == "application/problem+json"
