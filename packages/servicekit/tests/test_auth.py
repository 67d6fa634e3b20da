"""R4: every kind of bad token gets 401; health, metrics and docs stay open."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from servicekit import SERVICE_SCOPE, issue_token, require_scope, service_token
from servicekit_sample import SECRET, Settings, build_app


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
