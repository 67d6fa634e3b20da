"""JWT issue and verification, the same in every service.

fleet-api's ``/auth/login`` issues user tokens; services call each other with short-lived service
tokens (``scope: service``) signed with the same key. Issuer, audience, expiry and algorithm are
pinned, so a token with ``alg: none``, another key, another audience or an altered body is refused.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from flask import Flask, Request, g, request

from .errors import ApiProblem
from .settings import ServiceSettings
from .validation import spec_of

ALWAYS_PUBLIC = {
    "servicekit.healthz",
    "servicekit.readyz",
    "servicekit.metrics",
    "servicekit.openapi",
    "servicekit.docs",
    "static",
}
USER_SCOPE = "user"
SERVICE_SCOPE = "service"


def issue_token(
    settings: ServiceSettings,
    subject: str,
    *,
    scope: str = USER_SCOPE,
    ttl_seconds: int | None = None,
    claims: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """Return ``(token, expires_in)``."""
    ttl = ttl_seconds or settings.jwt_ttl_seconds
    now = int(time.time())
    payload = {
        **(claims or {}),
        "sub": subject,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "scope": scope,
    }
    token = jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm)
    return token, ttl


def service_token(settings: ServiceSettings, ttl_seconds: int = 300) -> str:
    """A token this service presents to another one."""
    return issue_token(settings, settings.service_name, scope=SERVICE_SCOPE, ttl_seconds=ttl_seconds)[0]


# Verified tokens by token string: a client sends the same token on every call, and checking the
# signature again is most of the guard's cost. Expiry is still checked on every use.
_VERIFIED_MAX = 4096
_verified: dict[tuple[str, ...], dict[str, Any]] = {}


def verify_token(settings: ServiceSettings, token: str) -> dict[str, Any]:
    # Keyed by everything the verdict depends on, so two configurations never share an entry.
    key = (
        settings.jwt_secret.get_secret_value(),
        settings.jwt_algorithm,
        settings.jwt_issuer,
        settings.jwt_audience,
        token,
    )
    claims = _verified.get(key)
    if claims is not None:
        if claims["exp"] + 5 >= time.time():
            return claims
        _verified.pop(key, None)
        raise _unauthorized("The token has expired.")
    claims = _decode(settings, token)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[key] = claims
    return claims


def _decode(settings: ServiceSettings, token: str) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=5,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("The token has expired.") from None
    except jwt.InvalidTokenError:
        raise _unauthorized("The token is not valid.") from None


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(
        401,
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="trucking-suite", error="invalid_token"'},
    )


def bearer_token() -> str | None:
    return _bearer(request.headers.get("Authorization", ""))


def _bearer(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def public(view: Callable) -> Callable:
    """Mark a view as reachable without a token."""
    spec_of(view).public = True
    return view


def require_scope(scope: str) -> Callable:
    """Restrict a view to tokens of one scope (e.g. ``service`` for service-to-service calls)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.get("claims", {}).get("scope") != scope:
                raise ApiProblem(403, "Forbidden", f"This endpoint needs a {scope} token.")
            return view(*args, **kwargs)

        spec = spec_of(wrapper)
        inner = getattr(view, "__endpoint_spec__", None)
        if inner:
            spec.__dict__.update({k: v for k, v in inner.__dict__.items() if k != "scope"})
        spec.scope = scope
        return wrapper

    return decorate


def token_guard(app: Flask, settings: ServiceSettings) -> Callable[[Request], None]:
    """The check every request passes: a bearer token unless the endpoint is public (health, metrics, docs...)."""
    # Whether an endpoint is public never changes once the app serves, so it is looked up once per endpoint.
    public_endpoints: dict[str, bool] = {}

    def is_public(endpoint: str) -> bool:
        known = public_endpoints.get(endpoint)
        if known is None:
            view = app.view_functions.get(endpoint)
            known = endpoint in ALWAYS_PUBLIC or (view is not None and spec_of(view).public)
            public_endpoints[endpoint] = known
        return known

    def check(current: Request) -> None:
        rule = current.url_rule
        if rule is None or current.method == "OPTIONS" or is_public(rule.endpoint):
            return  # unknown routes and methods fall through to their 404/405
        token = _bearer(current.environ.get("HTTP_AUTHORIZATION", ""))
        if token is None:
            raise _unauthorized(
                "Send an 'Authorization: Bearer <token>' header; tokens come from fleet-api's POST /auth/login."
            )
        g.claims = verify_token(settings, token)

    return check


def install_guard(app: Flask, settings: ServiceSettings) -> None:
    """Every endpoint needs a bearer token unless it is marked public."""
    check = token_guard(app, settings)

    @app.before_request
    def _require_token() -> None:
        check(request._get_current_object())  # type: ignore[attr-defined]
