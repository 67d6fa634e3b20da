"""Every error leaves a service as ``application/problem+json`` (RFC 9457), never as a stack trace."""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask, Response, json, request
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .domain_errors import DomainError, status_of
from .logs import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("servicekit.errors")


class ProblemModel(BaseModel):
    """The body of every error response (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = None


class ApiProblem(Exception):
    """Raised by a view or the domain layer to answer with a given status and message."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


def problem_response(
    status: int, title: str, detail: str | None = None, *, headers: dict[str, str] | None = None, **extensions: Any
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    try:
        body["instance"] = request.path
    except RuntimeError:
        pass
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update({k: v for k, v in extensions.items() if v is not None})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _http_exception(exc: HTTPException) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    for key, value in (getattr(exc, "response_headers", None) or {}).items():
        headers[key] = value
    return problem_response(exc.code or 500, exc.name, exc.description, headers=headers)


def _api_problem(exc: ApiProblem) -> Response:
    return problem_response(exc.status, exc.title, exc.detail, headers=exc.headers, **exc.extensions)


def _domain_error(exc: DomainError) -> Response:
    """The one translation of the domain's refusals (servicekit.domain_errors) to problem+json."""
    status, title = status_of(exc)
    title = exc.title or title
    headers: dict[str, str] = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if exc.location is not None:
        headers["Location"] = exc.location
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="trucking-suite"'
    errors = exc.errors
    if errors is None and exc.field:
        # A refusal about one input is also an errors[] entry shaped like a 422's (loc, msg, type).
        loc = exc.field if exc.field.startswith(("body.", "query.", "path.")) else f"body.{exc.field}"
        errors = [{"loc": loc, "msg": exc.detail, "type": exc.code or "invalid"}]
    return problem_response(status, title, exc.detail, headers=headers, code=exc.code, errors=errors, **exc.facts)


# Errors that mean "a dependency is down", by module; looked up only when that driver is loaded.
_UNAVAILABLE = {
    "sqlalchemy.exc": ("OperationalError", "InterfaceError", "TimeoutError"),
    "redis.exceptions": ("ConnectionError", "TimeoutError", "BusyLoadingError"),
    "botocore.exceptions": (
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    ),
    "pymongo.errors": ("ConnectionFailure", "ServerSelectionTimeoutError"),
    "psycopg": ("OperationalError",),
}
RETRY_AFTER_SECONDS = 5


def dependency_unavailable(exc: BaseException) -> bool:
    for module_name, names in _UNAVAILABLE.items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        types = tuple(t for t in (getattr(module, n, None) for n in names) if isinstance(t, type))
        if types and isinstance(exc, types):
            return True
    return False


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_exception(exc)
    if dependency_unavailable(exc):
        # A dependency outage is not the client's fault and not a bug: 503 tells it when to retry.
        log.warning("dependency unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
        return problem_response(
            503,
            "Service Unavailable",
            "A dependency of this service is unavailable; retry later.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return problem_response(
        500, "Internal Server Error", "An unexpected error occurred; the request id locates it in the logs."
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(ApiProblem, _api_problem)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(Exception, _unexpected)
