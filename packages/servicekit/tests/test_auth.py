"""R4: every kind of bad token gets 401; health, metrics and docs stay open."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from servicekit import SERVICE_SCOPE, endpoint, issue_token, require_role, require_scope, service_token
from servicekit_sample import SECRET, ItemIn, Settings, build_app


def claims(**overrides):
    now = int(time.time())
    base = {"sub": "u", "iss": "fleet-api", "aud": "trucking-suite", "iat": now, "exp": now + 60, "scope": "user"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def none_alg_token() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}."


BAD_TOKENS = {
    "none algorithm": lambda s: none_alg_token(),
    "wrong key": lambda s: jwt.encode(claims(), "another-secret-of-sufficient-length-000", algorithm="HS256"),
    "expired": lambda s: jwt.encode(claims(exp=int(time.time()) - 120), SECRET, algorithm="HS256"),
    "wrong audience": lambda s: jwt.encode(claims(aud="someone-else"), SECRET, algorithm="HS256"),
    "wrong issuer": lambda s: jwt.encode(claims(iss="evil"), SECRET, algorithm="HS256"),
    "tampered": lambda s: tampered(issue_token(s, "u")[0]),
    "no expiry": lambda s: jwt.encode(claims(exp=None), SECRET, algorithm="HS256"),
    "other algorithm": lambda s: jwt.encode(claims(), SECRET, algorithm="HS512"),
    "garbage": lambda s: "not-a-jwt",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_bad_tokens_are_401(client, settings, kind) -> None:
    token = BAD_TOKENS[kind](settings)
    response = client.get("/items", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, kind
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer", "Bearer   "])
def test_missing_token_is_401(client, header) -> None:
    headers = {"Authorization": header} if header else {}
    assert client.get("/items", headers=headers).status_code == 401


def test_valid_token_passes(client, auth) -> None:
    assert client.get("/items", headers=auth).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/open"])
def test_public_endpoints_need_no_token(client, path) -> None:
    assert client.get(path).status_code == 200


def test_service_scope_is_enforced(tmp_path) -> None:
    settings = Settings(jwt_secret=SECRET, log_dir=tmp_path)
    app = build_app(settings)

    @app.post("/internal")
    @require_scope(SERVICE_SCOPE)
    def internal():
        return {"ok": True}

    client = app.test_client()
    user = issue_token(settings, "u")[0]
    assert client.post("/internal", headers={"Authorization": f"Bearer {user}"}).status_code == 403
    svc = service_token(settings)
    assert client.post("/internal", headers={"Authorization": f"Bearer {svc}"}).status_code == 200


def test_a_cached_token_still_expires(client, settings, monkeypatch) -> None:
    token = issue_token(settings, "u", ttl_seconds=60)[0]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/items", headers=headers).status_code == 200
    assert client.get("/items", headers=headers).status_code == 200  # served from the verified cache
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/items", headers=headers).status_code == 401


def test_a_token_of_another_key_is_not_taken_from_the_cache(settings, tmp_path) -> None:
    token = issue_token(settings, "u")[0]
    headers = {"Authorization": f"Bearer {token}"}
    assert build_app(settings).test_client().get("/items", headers=headers).status_code == 200
    other = Settings(jwt_secret="a-completely-different-secret-key-for-another-deployment-000000", log_dir=tmp_path)
    response = build_app(other).test_client().get("/items", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def _guarded_app(settings):
    """Admin-only and service-only routes that take a body, with the decorators in either order."""
    app = build_app(settings)

    @app.post("/admin/items")
    @require_role("admin")
    @endpoint(body=ItemIn, status=201)
    def admin_create(body: ItemIn):
        return body.model_dump(), 201

    @app.post("/admin/other-order")
    @endpoint(body=ItemIn, status=201)
    @require_role("admin")
    def admin_other_order(body: ItemIn):
        return body.model_dump(), 201

    @app.post("/internal/items")
    @endpoint(body=ItemIn, status=201)
    @require_scope(SERVICE_SCOPE)
    def internal_create(body: ItemIn):
        return body.model_dump(), 201

    return app


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", ["/admin/items", "/admin/other-order"])
@pytest.mark.parametrize(
    "request_body",
    [
        {"json": {}},
        {"json": {"name": "x"}},
        {"data": "{not json", "content_type": "application/json"},
        {"data": "name=x", "content_type": "text/plain"},
        {"data": "[" * 1000, "content_type": "application/json"},
    ],
    ids=["empty", "partial", "malformed", "not-json", "deep"],
)
def test_the_role_is_checked_before_the_body_is_read(settings, path, request_body) -> None:
    """R9: an ordinary user learns nothing of an admin route's body (403, never 400/415/422 naming fields)."""
    client = _guarded_app(settings).test_client()
    for token in (
        issue_token(settings, "u", claims={"role": "user"})[0],
        issue_token(settings, "u")[0],  # no role claim at all
        issue_token(settings, "u", claims={"role": ["admin"]})[0],  # not a role, whatever it holds
        service_token(settings),
    ):
        response = client.post(path, headers=_bearer(token), **request_body)
        assert response.status_code == 403, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert "errors" not in response.get_json() and "name" not in response.get_json()["detail"]
    admin = _bearer(issue_token(settings, "a", claims={"role": "admin"})[0])
    assert client.post(path, headers=admin, **request_body).status_code in (400, 415, 422)
    assert client.post(path, headers=admin, json={"name": "x", "quantity": 1}).status_code == 201


def test_the_scope_is_checked_before_the_body_is_read(settings) -> None:
    client = _guarded_app(settings).test_client()
    user = _bearer(issue_token(settings, "u", claims={"role": "admin"})[0])
    assert client.post("/internal/items", headers=user, json={}).status_code == 403
    assert client.post("/internal/items", headers=_bearer(service_token(settings)), json={}).status_code == 422


def test_restricted_routes_document_their_403(settings) -> None:
    paths = _guarded_app(settings).test_client().get("/openapi.json").get_json()["paths"]
    for path in ("/admin/items", "/admin/other-order", "/internal/items"):
        assert "403" in paths[path]["post"]["responses"], path
    assert "403" not in paths["/items"]["post"]["responses"]


def test_require_role_needs_a_role() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require_role()
