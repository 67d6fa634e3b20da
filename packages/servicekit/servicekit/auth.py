"""JWT issue and verification, the same in every service.

fleet-api's ``/auth/login`` issues user tokens; services call each other with short-lived service
tokens (``scope: service``) signed with the same key. Issuer, audience, expiry and algorithm are
pinned, so a token with ``alg: none``, another key, another audience or an altered body is refused.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import jwt
from flask import Flask, Request, g, request

from .errors import ApiProblem
from .settings import ServiceSettings
from .validation import spec_of

if TYPE_CHECKING:
    from .revocation import TokenVersions

# A view function: the decorators here only mark it, so it keeps its own signature.
View = TypeVar("View", bound=Callable[..., Any])

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


def public(view: View) -> View:
    """Mark a view as reachable without a token."""
    spec_of(view).public = True
    return view


def require_scope(scope: str) -> Callable[[View], View]:
    """Restrict a view to tokens of one scope (e.g. ``service`` for service-to-service calls).

    The token guard checks it, before the view runs and so before its body is read or validated.
    """

    def decorate(view: View) -> View:
        spec_of(view).scope = scope
        return view

    return decorate


def require_role(*roles: str) -> Callable[[View], View]:
    """Restrict a view to people (``scope: user`` tokens) whose ``role`` claim is one of ``roles``.

    fleet-api's login puts the user's role in the token. The token guard checks it before the view runs, so a
    caller without the role gets 403 before the body is read or validated: an ordinary user learns nothing about
    the shape of an admin route. A token without a ``role`` claim has none of them.
    """
    if not roles:
        raise ValueError("require_role needs at least one role")

    def decorate(view: View) -> View:
        spec_of(view).roles = frozenset(roles)
        return view

    return decorate


@dataclass(frozen=True)
class _Access:
    """What an endpoint asks of a caller, looked up once per endpoint."""

    public: bool
    scope: str | None = None
    roles: frozenset[str] | None = None


_PUBLIC = _Access(public=True)


def _access_of(app: Flask, endpoint: str) -> _Access:
    if endpoint in ALWAYS_PUBLIC:
        return _PUBLIC
    view = app.view_functions.get(endpoint)
    if view is None:
        return _Access(public=False)
    spec = spec_of(view)
    return _PUBLIC if spec.public else _Access(public=False, scope=spec.scope, roles=spec.roles)


def _has_role(claims: dict[str, Any], roles: frozenset[str]) -> bool:
    role = claims.get("role")
    # A signed token may still carry any JSON in a claim: only a string names a role.
    return claims.get("scope") == USER_SCOPE and isinstance(role, str) and role in roles


def _forbidden(detail: str) -> ApiProblem:
    return ApiProblem(403, "Forbidden", detail)


def token_guard(
    app: Flask, settings: ServiceSettings, revocation: TokenVersions | None = None
) -> Callable[[Request], None]:
    """The check every request passes, before its view runs: a bearer token unless the endpoint is public (health,
    metrics, docs...), not revoked (``revocation``: see servicekit/revocation.py), and of the scope and role the
    endpoint asks for (``require_scope``, ``require_role``)."""
    # What an endpoint asks never changes once the app serves, so it is looked up once per endpoint.
    access_by_endpoint: dict[str, _Access] = {}

    def check(current: Request) -> None:
        rule = current.url_rule
        if rule is None or current.method == "OPTIONS":
            return  # unknown routes and methods fall through to their 404/405
        access = access_by_endpoint.get(rule.endpoint)
        if access is None:
            access = access_by_endpoint[rule.endpoint] = _access_of(app, rule.endpoint)
        if access.public:
            return
        token = _bearer(current.environ.get("HTTP_AUTHORIZATION", ""))
        if token is None:
            raise _unauthorized(
                "Send an 'Authorization: Bearer <token>' header; tokens come from fleet-api's POST /auth/login."
            )
        claims = verify_token(settings, token)
        if revocation is not None:
            revocation.check(claims)
        g.claims = claims
        if access.scope is not None and claims.get("scope") != access.scope:
            raise _forbidden(f"This endpoint needs a {access.scope} token.")
        if access.roles is not None and not _has_role(claims, access.roles):
            raise _forbidden(f"This endpoint is for the {' or '.join(sorted(access.roles))} role only.")

    return check


def install_guard(app: Flask, settings: ServiceSettings) -> None:
    """Every endpoint needs a bearer token unless it is marked public."""
    check = token_guard(app, settings)

    @app.before_request
    def _require_token() -> None:
        check(request._get_current_object())  # type: ignore[attr-defined]
