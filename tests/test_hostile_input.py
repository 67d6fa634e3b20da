"""R3: hostile bodies and requests get a 4xx problem+json from every service, never a 500 or a traceback.

The bodies go through each service's own routes (the operations of its OpenAPI document that take a body),
so that every service is shown to parse bodies through servicekit's shared code path.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from servicekit import ServiceSettings, issue_token
from suite_support import ROOT, SERVICES, build, fill_path, offline_env
from testkit.servers import free_port

DEPTH_LIMIT = ServiceSettings.model_fields["max_json_depth"].default
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module", params=list(SERVICES))
def service_app(request):
    return request.param, build(request.param, offline_env(free_port()))


def body_operations(app):
    document = app.test_client().get("/openapi.json").get_json()
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if "requestBody" in op:
                yield path, method, op


def admin_token(app) -> str:
    """An admin's token: admin routes (fleet-api's /users) refuse anyone else before reading the body."""
    return issue_token(app.config["SETTINGS"], "hostile-input-test", claims={"role": "admin"})[0]


def assert_refused_for_depth(response, where: str) -> None:
    assert response.status_code == 400, f"{where} answered {response.status_code}"
    assert response.mimetype == "application/problem+json", where
    assert str(DEPTH_LIMIT) in response.get_json()["detail"], where


@pytest.mark.parametrize("body", [DEEP, '{"a":' * 5000 + "1" + "}" * 5000, "[" * (DEPTH_LIMIT + 1)])
def test_deeply_nested_bodies_are_a_400_naming_the_limit(service_app, body, caplog) -> None:
    name, app = service_app
    token = admin_token(app)
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        for path, method, _ in body_operations(app):
            response = client.open(
                fill_path(path),
                method=method.upper(),
                data=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            assert_refused_for_depth(response, f"{name} {method.upper()} {path}")
    assert not [record for record in caplog.records if record.exc_info], "a refused body must log no traceback"


@pytest.mark.parametrize(
    "body, status, title",
    [
        ('{"name": "a\\u0000b", "loads": ["\\u0000"]}', 422, "Validation failed"),
        ('{"\\u0000": 1}', 422, "Validation failed"),
        (None, 413, "Request Entity Too Large"),  # one byte over the route's limit
    ],
    ids=["nul-value", "nul-key", "too-large"],
)
def test_nul_characters_and_oversized_bodies_get_their_documented_refusal(service_app, body, status, title) -> None:
    name, app = service_app
    token = admin_token(app)
    client = app.test_client()
    for path, method, op in body_operations(app):
        sent = body
        if body is None:
            limit = op["requestBody"].get("x-max-body-bytes", app.config["MAX_CONTENT_LENGTH"])
            sent = '{"pad": "' + "x" * (limit + 1) + '"}'
        response = client.open(
            fill_path(path),
            method=method.upper(),
            data=sent,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        where = f"{name} {method.upper()} {path}"
        assert response.status_code == status, f"{where} answered {response.status_code}"
        assert response.mimetype == "application/problem+json" and response.get_json()["title"] == title, where
        assert str(status) in op["responses"], f"{where} does not declare {status}"


def test_login_refuses_a_deep_body_without_any_token() -> None:
    app = build("fleet-api", offline_env(free_port()))
    response = app.test_client().post("/auth/login", data=DEEP, content_type="application/json")
    assert_refused_for_depth(response, "fleet-api POST /auth/login")


def test_no_service_reads_a_body_around_servicekit() -> None:
    """Bodies are read through servicekit (``parse_body``/``json_body``), where the depth and NUL rules live."""
    readers = re.compile(r"\.get_json\(|request\.json\b|json\.loads\(request")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for service in [*SERVICES, "packages/jobs"]
        for path in (ROOT / service).rglob("*.py")
        if "tests" not in path.parts and ".venv" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if readers.search(line)
    ]
    assert not offenders, offenders


def test_every_body_operation_declares_the_refusals_it_can_send(service_app) -> None:
    name, app = service_app
    for path, method, op in body_operations(app):
        for status in ("400", "413", "415", "422"):
            content = op["responses"].get(status, {}).get("content", {})
            assert "application/problem+json" in content, f"{name} {method.upper()} {path} lacks {status}"


def forged_tokens(settings) -> dict[str, str]:
    """R4: every way of presenting a token the suite did not issue, or no longer accepts."""
    import base64
    import time

    import jwt

    secret = settings.jwt_secret.get_secret_value()
    now = int(time.time())
    good = {"sub": "attacker", "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "scope": "user"}
    good |= {"iat": now, "nbf": now, "exp": now + 600}

    def signed(claims: dict, key: str = secret, algorithm: str = settings.jwt_algorithm) -> str:
        return jwt.encode(claims, key, algorithm=algorithm)

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    def unsigned(claims: dict, alg: str = "none") -> str:
        return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}."

    valid = signed(good)
    head, body, signature = valid.split(".")
    return {
        "none-algorithm": unsigned(good),
        "none-algorithm-uppercase": unsigned(good, alg="NONE"),
        "wrong-key": signed(good, key="another-key-of-the-same-length-" + "x" * 40),
        "other-hmac-algorithm": signed(good, algorithm="HS512" if settings.jwt_algorithm != "HS512" else "HS384"),
        "expired": signed({**good, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}),
        "wrong-audience": signed({**good, "aud": "another-suite"}),
        "wrong-issuer": signed({**good, "iss": "somebody-else"}),
        "no-expiry": signed({k: v for k, v in good.items() if k != "exp"}),
        "tampered-claims": f"{head}.{part({**good, 'sub': 'admin', 'scope': 'service'})}.{signature}",
        "signature-stripped": f"{head}.{body}.",
        "not-a-jwt": "' OR 1=1 --",
    }


def test_forged_expired_and_tampered_tokens_are_401_on_every_protected_route(service_app) -> None:
    """R4 on every service and every operation that needs a token, not only on one sample route."""
    name, app = service_app
    client = app.test_client()
    document = client.get("/openapi.json").get_json()
    protected = [
        (path, method)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if "security" in op and op["security"]
    ]
    assert protected, f"{name} documents no protected operation"
    for attack, token in forged_tokens(app.config["SETTINGS"]).items():
        for path, method in protected:
            response = client.open(
                fill_path(path), method=method.upper(), headers={"Authorization": f"Bearer {token}"}, json={}
            )
            where = f"{name} {method.upper()} {path} with a {attack} token"
            assert response.status_code == 401, f"{where} answered {response.status_code}"
            assert response.mimetype == "application/problem+json", where
            assert "WWW-Authenticate" in response.headers, where


def test_a_genuine_token_passes_where_the_forged_ones_fail(service_app) -> None:
    """The control for the test above: the same routes with a token the suite issued are not refused as 401."""
    name, app = service_app
    client = app.test_client()
    token = issue_token(app.config["SETTINGS"], "hostile-input-test")[0]
    document = client.get("/openapi.json").get_json()
    gets = [path for path, ops in document["paths"].items() if "security" in ops.get("get", {})]
    for path in gets:
        response = client.get(fill_path(path), headers={"Authorization": f"Bearer {token}"})
        assert response.status_code != 401, f"{name} GET {path} refused a genuine token"
